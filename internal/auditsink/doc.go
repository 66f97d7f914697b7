// Package auditsink forwards committed audit events to a place outside
// tokend: an HTTP webhook (NDJSON batches signed with HMAC-SHA256) or a
// syslog receiver (RFC 5424). A [Forwarder] reads each tenant's chain by
// cursor, after the events are committed, so delivery never delays nor
// fails the request that recorded them; it delivers every event at least
// once, in chain order per tenant, and keeps the cursor of the last event
// delivered in a file so that a restart resumes where it stopped.
package auditsink
