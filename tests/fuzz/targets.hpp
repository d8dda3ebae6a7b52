#pragma once
// The fuzz targets' bodies, shared by the libFuzzer programs (tests/fuzz/*.fuzz.cpp) and by the
// corpus test that replays tests/fuzz/corpus under the normal build (tests/wire/corpus.test.cpp).
// Each takes any bytes. Bad input must end in decode_error or frame_error, which the target
// catches (or in a session_closed event); a broken invariant throws std::logic_error, and anything else escapes too:
// under libFuzzer both are a crash, under GoogleTest a failure.

#include <cstddef>
#include <cstdint>

namespace troupe_fuzz {

/// Feeds `data` (after a first byte that picks the chunk sizes) to a frame_reader in chunks,
/// and decodes every frame as a protocol message. Checks that chunking does not change the
/// frames, and that every message decoded re-encodes to bytes that decode to the same message.
void frames(const std::uint8_t* data, std::size_t size);

/// Decodes `data` as a record with a field of every kind. Checks that what decodes re-encodes
/// stably, and that troupe's reader accepts exactly the msgpack values msgpack-cxx's parser does.
void records(const std::uint8_t* data, std::size_t size);

/// Feeds `data` (after a first byte that picks the chunk sizes) to a remote session, whole and
/// in chunks (through feed() and prepare()/commit() in turn), taking every auth_response as
/// right. Checks that both give the same events, that the first is the handshake or the close,
/// that a demanded authentication is one challenge then one response on dialog 0 with nothing
/// passed on before it, that dialog 0 carries only spawn and cancel otherwise, that no hello is
/// passed on, and that nothing follows the close.
void session(const std::uint8_t* data, std::size_t size);

}  // namespace troupe_fuzz
