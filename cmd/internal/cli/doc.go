// Package cli holds what the clapp commands share: the flags that select
// the BLAS backend, logging, NATS and the encoder's size, and the run
// directory every command writes.
package cli
