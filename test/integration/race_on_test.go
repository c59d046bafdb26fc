//go:build race

package integration

// raceEnabled: this test binary is built with -race, which also turns on checkptr.
const raceEnabled = true
