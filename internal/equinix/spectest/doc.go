// Package spectest finds Equinix's published API descriptions (the OpenAPI
// files and the seed answers in shared/reference) for tests, and loads an
// OpenAPI 3 or Swagger 2 file as OpenAPI 3.
//
// The descriptions are not part of the repository. Tests that need them call
// Dir, which skips the test with one line saying where to put them, or fails
// it when the environment variable CI is set (CI must check them).
package spectest
