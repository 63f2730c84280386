// Package auth holds who may use the remote API: bearer tokens, kept as
// digests in a 0600 file with their names and scopes, the dashboard's
// sessions made from them, and the limit on failed attempts per source.
//
// A token is printed once, when it is made; the file keeps only its
// SHA-256 digest. Tokens are 256 random bits, so a plain digest is as
// strong as a slow hash would be, and checking one costs microseconds.
package auth
