// Package alerts turns the troubles Flok already reports on a Flink job — the reason of
// its Degraded condition — into incidents, decides which AlertRoutes send which of them
// to which AlertReceivers and when (once when an incident opens, at the route's repeat
// interval while it stays open, once when it is resolved), keeps the record of what was
// sent that makes a restarted operator neither lose nor repeat a message, and formats
// and sends messages, one file per kind of receiver.
//
// It speaks HTTP to the receivers and nothing else: reading resources and Secrets and
// writing records is the alerting controller's.
package alerts
