// test_frames.cpp — the peer links' frames: what a well-formed one carries, and how each bad one is refused.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <vector>

extern "C" {
#include "cluster/frame.h"
}

namespace
{

std::vector<uint8_t> frame(uint8_t type, const std::vector<uint8_t> &body)
{
	std::vector<uint8_t> f(SCD_FRAME_HEADER + body.size());
	REQUIRE(scd_frame_put(f.data(), f.size(), type, body.data(), static_cast<uint32_t>(body.size())) ==
		f.size());
	return f;
}

std::vector<uint8_t> heartbeat(uint64_t seq, uint64_t ns)
{
	std::vector<uint8_t> body(SCD_HEARTBEAT_BYTES);
	scd_heartbeat h = { seq, ns };
	REQUIRE(scd_heartbeat_encode(&h, body.data()) == body.size());
	return frame(SCD_FRAME_HEARTBEAT, body);
}

int parse(const std::vector<uint8_t> &bytes, scd_frame *f, size_t *used)
{
	return scd_frame_parse(bytes.data(), bytes.size(), f, used);
}

} // namespace

TEST_CASE("a heartbeat goes through whole, and two frames in one read come apart", "[frames]")
{
	std::vector<uint8_t> bytes = heartbeat(7, 123456789);
	std::vector<uint8_t> second = heartbeat(8, 5);
	bytes.insert(bytes.end(), second.begin(), second.end());

	scd_frame f{};
	size_t used = 0;
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(used == SCD_FRAME_HEADER + SCD_HEARTBEAT_BYTES);
	scd_heartbeat h{};
	REQUIRE(scd_heartbeat_decode(&f, &h) == 0);
	CHECK(h.seq == 7);
	CHECK(h.sent_ns == 123456789);

	REQUIRE(scd_frame_parse(bytes.data() + used, bytes.size() - used, &f, &used) == 1);
	REQUIRE(scd_heartbeat_decode(&f, &h) == 0);
	CHECK(h.seq == 8);
}

TEST_CASE("a frame cut short asks for the rest, and says how much", "[frames]")
{
	std::vector<uint8_t> bytes = heartbeat(1, 2);
	scd_frame f{};
	size_t used = 0;
	for (size_t n = 0; n < bytes.size(); n++) {
		CHECK(scd_frame_parse(bytes.data(), n, &f, &used) == 0);
		CHECK(used == (n < 4 ? SCD_FRAME_HEADER : bytes.size()));
	}
	CHECK(parse(bytes, &f, &used) == 1);
}

TEST_CASE("a hello carries cluster, node and nonce, and refuses names that are not names", "[frames]")
{
	scd_hello h{};
	std::strcpy(h.cluster, "prod-eu");
	std::strcpy(h.node, "node-1.rack3");
	for (unsigned i = 0; i < SCD_NONCE_BYTES; i++)
		h.nonce[i] = static_cast<uint8_t>(i * 7);
	std::vector<uint8_t> body(SCD_HELLO_BYTES);
	size_t n = scd_hello_encode(&h, body.data());
	REQUIRE(n == 2 + 7 + 12 + SCD_NONCE_BYTES);
	body.resize(n);
	std::vector<uint8_t> bytes = frame(SCD_FRAME_HELLO, body);

	scd_frame f{};
	size_t used = 0;
	REQUIRE(parse(bytes, &f, &used) == 1);
	scd_hello got{};
	REQUIRE(scd_hello_decode(&f, &got) == 0);
	CHECK(std::string(got.cluster) == "prod-eu");
	CHECK(std::string(got.node) == "node-1.rack3");
	CHECK(std::memcmp(got.nonce, h.nonce, SCD_NONCE_BYTES) == 0);

	std::strcpy(h.node, "bad name");
	CHECK(scd_hello_encode(&h, body.data()) == 0);
	std::strcpy(h.node, "");
	CHECK(scd_hello_encode(&h, body.data()) == 0);

	// A body whose name length runs past its end, or that is one byte short of its nonce.
	std::vector<uint8_t> runs_over = { 200, 'a', 'b' };
	bytes = frame(SCD_FRAME_HELLO, runs_over);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_hello_decode(&f, &got) == -EPROTO);
	body.pop_back();
	bytes = frame(SCD_FRAME_HELLO, body);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_hello_decode(&f, &got) == -EPROTO);
	// A heartbeat is not a hello, nor the other way round.
	bytes = heartbeat(1, 1);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_hello_decode(&f, &got) == -EPROTO);
}

TEST_CASE("every changed bit of a frame is refused before its body is read", "[frames][errors]")
{
	std::vector<uint8_t> good = heartbeat(42, 99);
	scd_frame f{};
	size_t used = 0;
	for (size_t byte = 4; byte < good.size(); byte++) {
		for (int bit = 0; bit < 8; bit++) {
			std::vector<uint8_t> bad = good;
			bad[byte] ^= static_cast<uint8_t>(1u << bit);
			CHECK(parse(bad, &f, &used) == -EBADMSG);
		}
	}
	// A changed length is caught too: it seeds the checksum (here, one byte more to wait for, then wrong).
	std::vector<uint8_t> longer = good;
	longer[0]++;
	longer.push_back(0);
	CHECK(parse(longer, &f, &used) == -EBADMSG);
}

TEST_CASE("a length above the limit is refused before the body is waited for", "[frames][errors]")
{
	std::vector<uint8_t> bytes(4);
	uint32_t len = SCD_FRAME_MAX_BODY + 1;
	for (int i = 0; i < 4; i++)
		bytes[i] = static_cast<uint8_t>(len >> (8 * i));
	scd_frame f{};
	size_t used = 0;
	CHECK(parse(bytes, &f, &used) == -EMSGSIZE);
	std::vector<uint8_t> body(SCD_FRAME_MAX_BODY + 1);
	CHECK(scd_frame_put(body.data(), body.size(), SCD_FRAME_HEARTBEAT, body.data(), len) == 0);
}

TEST_CASE("a frame of another version, an unknown type or a set reserved field is refused",
	  "[frames][errors]")
{
	scd_frame f{};
	size_t used = 0;
	std::vector<uint8_t> unknown = frame(SCD_FRAME_TYPE_MAX + 1, {});
	CHECK(parse(unknown, &f, &used) == -EPROTO);
	std::vector<uint8_t> none = frame(0, {});
	CHECK(parse(none, &f, &used) == -EPROTO);
	std::vector<uint8_t> body(SCD_HEARTBEAT_BYTES - 1);
	std::vector<uint8_t> short_beat = frame(SCD_FRAME_HEARTBEAT, body);
	REQUIRE(parse(short_beat, &f, &used) == 1);
	scd_heartbeat h{};
	CHECK(scd_heartbeat_decode(&f, &h) == -EPROTO);
}

TEST_CASE("replication frames: entries and a position go through whole; a bad one is refused", "[frames]")
{
	scd_frame f{};
	size_t used = 0;
	scd_repl_entries e = { 17, 0x1122334455667788ull, nullptr, 0, 0x0102030405060708ull };
	std::vector<uint8_t> body(SCD_REPL_ENTRIES_HEADER + 24, 0xab);
	REQUIRE(scd_repl_entries_header(&e, body.data()) == SCD_REPL_ENTRIES_HEADER);
	std::vector<uint8_t> bytes = frame(SCD_FRAME_REPL_ENTRIES, body);
	REQUIRE(parse(bytes, &f, &used) == 1);
	scd_repl_entries got{};
	REQUIRE(scd_repl_entries_decode(&f, &got) == 0);
	CHECK(got.log == 17);
	CHECK(got.epoch == 0x1122334455667788ull);
	CHECK(got.committed_lseq == 0x0102030405060708ull);
	CHECK(got.len == 24);
	CHECK(got.entries[0] == 0xab);
	// The header alone is a frame with no entries; less than it, or a set zero field, is not one.
	bytes = frame(SCD_FRAME_REPL_ENTRIES,
		      std::vector<uint8_t>(body.begin(), body.begin() + SCD_REPL_ENTRIES_HEADER));
	REQUIRE(parse(bytes, &f, &used) == 1);
	REQUIRE(scd_repl_entries_decode(&f, &got) == 0);
	CHECK(got.len == 0);
	bytes = frame(SCD_FRAME_REPL_ENTRIES,
		      std::vector<uint8_t>(body.begin(), body.begin() + SCD_REPL_ENTRIES_HEADER - 1));
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_entries_decode(&f, &got) == -EPROTO);
	body[5] = 1;
	bytes = frame(SCD_FRAME_REPL_ENTRIES, body);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_entries_decode(&f, &got) == -EPROTO);

	scd_repl_position p = { 3, SCD_REPL_FOLLOW, 9, 1000, 8 };
	std::vector<uint8_t> pos(SCD_REPL_POSITION_BYTES);
	REQUIRE(scd_repl_position_encode(&p, pos.data()) == SCD_REPL_POSITION_BYTES);
	bytes = frame(SCD_FRAME_REPL_POSITION, pos);
	REQUIRE(parse(bytes, &f, &used) == 1);
	scd_repl_position back{};
	REQUIRE(scd_repl_position_decode(&f, &back) == 0);
	CHECK((back.log == 3 && back.flags == SCD_REPL_FOLLOW && back.epoch == 9 && back.last_lseq == 1000 &&
	       back.last_epoch == 8));
	// A copy wanted goes with a follow; a flag nobody defined, a short body, or another type's frame is refused.
	p.flags = SCD_REPL_FOLLOW | SCD_REPL_WANT_COPY;
	scd_repl_position_encode(&p, pos.data());
	bytes = frame(SCD_FRAME_REPL_POSITION, pos);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_position_decode(&f, &back) == 0);
	p.flags = SCD_REPL_WANT_COPY;
	scd_repl_position_encode(&p, pos.data());
	bytes = frame(SCD_FRAME_REPL_POSITION, pos);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_position_decode(&f, &back) == -EPROTO);
	p.flags = 4;
	scd_repl_position_encode(&p, pos.data());
	bytes = frame(SCD_FRAME_REPL_POSITION, pos);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_position_decode(&f, &back) == -EPROTO);
	pos.pop_back();
	bytes = frame(SCD_FRAME_REPL_POSITION, pos);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_position_decode(&f, &back) == -EPROTO);
	bytes = heartbeat(1, 1);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_position_decode(&f, &back) == -EPROTO);
	CHECK(scd_repl_entries_decode(&f, &got) == -EPROTO);
}

TEST_CASE("a copy frame goes through whole; an unknown flag or a short one is refused", "[frames]")
{
	scd_repl_copy c = { { 2, SCD_REPL_COPY_BEGIN | SCD_REPL_COPY_END, 5, 77, 4 }, nullptr, 0 };
	std::vector<uint8_t> body(SCD_REPL_COPY_HEADER + 16, 0xcd);
	REQUIRE(scd_repl_copy_header(&c, body.data()) == SCD_REPL_COPY_HEADER);
	std::vector<uint8_t> bytes = frame(SCD_FRAME_REPL_COPY, body);
	scd_frame f{};
	size_t used = 0;
	REQUIRE(parse(bytes, &f, &used) == 1);
	scd_repl_copy got{};
	REQUIRE(scd_repl_copy_decode(&f, &got) == 0);
	CHECK((got.at.log == 2 && got.at.flags == (SCD_REPL_COPY_BEGIN | SCD_REPL_COPY_END) &&
	       got.at.epoch == 5 && got.at.last_lseq == 77 && got.at.last_epoch == 4 && got.len == 16 &&
	       got.entries[0] == 0xcd));
	c.at.flags = 4;
	scd_repl_copy_header(&c, body.data());
	bytes = frame(SCD_FRAME_REPL_COPY, body);
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_copy_decode(&f, &got) == -EPROTO);
	bytes = frame(SCD_FRAME_REPL_COPY, std::vector<uint8_t>(SCD_REPL_COPY_HEADER - 1));
	REQUIRE(parse(bytes, &f, &used) == 1);
	CHECK(scd_repl_copy_decode(&f, &got) == -EPROTO);
}

TEST_CASE(
	"a forward frame hands on its id and the message whose own length is the rest; any other is refused",
	"[frames]")
{
	std::vector<uint8_t> body(SCD_FORWARD_ID_BYTES + SCD_FORWARD_HEAD_BYTES + 8, 0);
	body[0] = 0x2a;			 // id 42
	body[SCD_FORWARD_ID_BYTES] = 32; // the message's own len: head and 8 bytes
	for (uint8_t type : { SCD_FRAME_FORWARD, SCD_FRAME_FORWARD_REPLY }) {
		std::vector<uint8_t> bytes = frame(type, body);
		scd_frame f{};
		size_t used = 0;
		REQUIRE(parse(bytes, &f, &used) == 1);
		scd_forward_msg m{};
		REQUIRE(scd_forward_msg_decode(&f, &m) == 0);
		CHECK((m.id == 42 && m.len == 32 && m.msg == f.body + SCD_FORWARD_ID_BYTES));
	}
	std::vector<uint8_t> liar = body;
	liar[SCD_FORWARD_ID_BYTES] = 33;
	std::vector<uint8_t> shorter(body.begin(),
				     body.begin() + SCD_FORWARD_ID_BYTES + SCD_FORWARD_HEAD_BYTES - 1);
	for (const auto &b : { liar, shorter }) {
		std::vector<uint8_t> bytes = frame(SCD_FRAME_FORWARD, b);
		scd_frame f{};
		size_t used = 0;
		REQUIRE(parse(bytes, &f, &used) == 1);
		scd_forward_msg m{};
		CHECK(scd_forward_msg_decode(&f, &m) == -EPROTO);
	}
	std::vector<uint8_t> other = frame(SCD_FRAME_REPL_COPY, body);
	scd_frame f{};
	size_t used = 0;
	REQUIRE(parse(other, &f, &used) == 1);
	scd_forward_msg m{};
	CHECK(scd_forward_msg_decode(&f, &m) == -EPROTO);
}
