// Package natsbus carries clapp's Blocks over NATS: an embedded server by
// default, or an external one; a publisher that never blocks the layer
// that calls it; subscribers with bounded buffers that validate every
// frame; an audio Source over a live subject; JetStream recording of a
// run's audio and its replay as a Source that resumes where it stopped.
// The wire format (subjects, headers, payload) is package
// clapp/stream/frame's.
//
// # Server
//
// StartServer runs nats-server in this process, on 127.0.0.1:4222 unless
// told otherwise (RandomPort for tests). It listens beyond loopback only
// with ServerConfig.AllowRemote. JetStream is enabled when StoreDir is
// set. Shutdown waits until every goroutine of the server has ended.
// Open starts the embedded server and connects to it, or connects to an
// external server when Config.Conn.URL is set:
//
//	bus, err := natsbus.Open(natsbus.Config{
//		Embedded: natsbus.ServerConfig{StoreDir: "runs/nats"},
//	})
//	...
//	defer bus.Close()
//
// Connect passes credentials (user/password, token, credentials file,
// nkey seed file) and TLS files (CA, client certificate and key) to
// nats.go unchanged; it reconnects forever with exponential backoff and
// logs disconnects, reconnects and slow consumers with log/slog.
//
// # Publishing
//
// Publisher.Publish validates and copies the block into a bounded queue
// and returns; one goroutine hands the queue to nats.go. When the queue is
// full, the block is dropped and counted: a layer is never held up by a
// dashboard. While the server is away nats.go keeps what is published in
// its reconnect buffer (ConnConfig.ReconnectBufSize) and sends it after
// reconnecting; beyond that blocks are dropped and counted (Stats).
//
//	pub := natsbus.NewPublisher(bus.Conn, natsbus.PublisherConfig{})
//	defer pub.Close()
//	subject, _ := frame.BlockSubject("run1", b.Layer)
//	_ = pub.Publish(subject, b) // error: invalid block, or dropped (counted)
//
// # Subscribing
//
// Subscribe and SubscribeChan decode every message with a frame.Decoder:
// bad frames are skipped and counted by reason, a block whose layer is not
// its subject's is rejected. nats.go holds at most PendingMsgs messages
// while the handler is busy and drops the rest, reported in
// Stats().Dropped and to the connection's error handler.
//
//	sub, err := natsbus.SubscribeChan(bus.Conn, "clapp.run1.layer.*", natsbus.SubscriberConfig{})
//	for b := range sub.C() {
//		...
//	}
//
// # Sources
//
// Source (live audio on clapp.<run>.audio) and Replay (a JetStream
// recording) follow the source convention of package stream:
// Next(ctx) (frame.Block, error), io.EOF once closed (or, for a Replay
// without Follow, at the end of the recording), and Close. Both accept
// only 16 kHz mono blocks whose shape matches their payload.
//
// RecordAudio creates the stream clapp_<run>_audio (file storage) that
// records the audio subject. A Replay reads it through a durable consumer
// (acknowledge-all, prefetching): a block is acknowledged when the next is
// asked for, so after a server restart, or with a new Replay of the same
// Durable after a process restart, it resumes at the first block not
// finished with. Deliveries lost in a restart are noticed (a gap in the
// sequence, or unacknowledged deliveries with nothing arriving) and the
// consumer is reset to the replay's place rather than waiting for AckWait.
// One Replay per Durable at a time. Paced replays release blocks in real
// time, by First/Rate within each stream.
//
// # Control
//
// Request and ServeControl carry opaque payloads on clapp.<run>.control;
// the messages are the actors' to define.
package natsbus
