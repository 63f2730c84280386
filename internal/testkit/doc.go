// Package testkit is what the tests of every package share: fixtures (a
// small site config with its zone files), one Eventually poll, and fake
// DNS peers on loopback (a secondary, a resolver, an address nobody
// answers on), and the third-party checkers of a signed zone
// (CheckSignedZone). It is imported by tests only.
package testkit
