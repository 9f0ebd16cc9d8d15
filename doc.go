// Package switchboard is the domain of Switchboard, an on-premise call-center
// controller: typed identifiers, calls, agents and the call log, queues,
// outbound campaigns with their leads and dial attempts, the events
// and commands that cross the PBX boundary, and the PBX port that every PBX
// adapter (Asterisk over ARI, FreeSWITCH over ESL) implements.
//
// The package does no I/O. Adapters live at the edge (ari/, storage/, api/,
// sim/) and the call lifecycle in center/.
package switchboard
