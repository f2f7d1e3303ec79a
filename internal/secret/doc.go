// Package secret reads secret settings (the Equinix client secret and token,
// the SMTP URL and password) from where services keep them: the variable
// NAME itself, a file named by NAME_FILE (a Kubernetes Secret mounted as
// files), or systemd's credentials folder ($CREDENTIALS_DIRECTORY/NAME,
// from LoadCredential=). A file's trailing line breaks are trimmed; a file
// that others may read gets a warning. Nothing here ever puts a secret's
// value in an error or a warning.
package secret
