// Package templates holds the email bodies and the roster workbook template,
// embedded so the binary runs from any directory.
package templates
