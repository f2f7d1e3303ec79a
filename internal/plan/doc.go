// Package plan splits checked roster rows into work visit orders of at most
// 50 visitors and 14 days, deterministically.
package plan
