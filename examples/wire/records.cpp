// Records and codecs: a struct declared with TROUPE_RECORD becomes msgpack bytes and back,
// bad bytes are refused with what and where, a field added at the end is tolerated, and the
// same type is troupe::encodable, so a ref to an actor in another process can carry it.

#include <troupe/wire/codec.hpp>
#include <troupe/wire/frame_reader.hpp>
#include <troupe/wire/frame_writer.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

using example::check;

// [record]
namespace shop {

struct item {
    std::string sku;
    std::uint32_t quantity = 1;
};

struct order {
    std::uint64_t id = 0;
    std::vector<item> items;
    std::map<std::string, std::string> notes;
    std::optional<std::string> coupon;
};

TROUPE_RECORD(item, sku, quantity);
TROUPE_RECORD(order, id, items, notes, coupon);

}  // namespace shop
// [record]

// The same item as a newer program has it: one field more, at the end.
namespace shop_v2 {
struct item {
    std::string sku;
    std::uint32_t quantity = 1;
    bool gift = false;
};
TROUPE_RECORD(item, sku, quantity, gift);
}  // namespace shop_v2

int main() {
    // [round trip]
    const shop::order order{42, {{"tea", 2}, {"cup", 1}}, {{"door", "blue"}}, std::nullopt};
    std::vector<std::byte> bytes = troupe::wire::encode(order);   // a msgpack array of the fields
    shop::order back = troupe::wire::decode<shop::order>(bytes);  // throws decode_error on bad bytes
    // [round trip]
    check(back.id == 42 && back.items.size() == 2 && back.items[0].sku == "tea" && back.items[0].quantity == 2 &&
              back.notes.at("door") == "blue" && !back.coupon,
          "an order comes back as it was sent");
    check(bytes.size() == 27, "the order takes 27 bytes: field values only, no names");

    // [bad bytes]
    std::vector<std::byte> bad = troupe::wire::encode(order);
    bad[4] = std::byte{0xc3};  // the first item's sku becomes `true`
    std::string why;
    try {
        (void)troupe::wire::decode<shop::order>(bad);
    } catch (const troupe::wire::decode_error& e) {
        why = e.what();  // "order.items[0].sku: expected a string, got a boolean (at byte 4)"
    }
    // [bad bytes]
    check(why == "order.items[0].sku: expected a string, got a boolean (at byte 4)", "bad bytes say what and where");

    // [evolution]
    const auto old_item = troupe::wire::encode(shop::item{"tea", 2});
    const auto new_item = troupe::wire::encode(shop_v2::item{"mug", 1, true});
    shop_v2::item read_by_new = troupe::wire::decode<shop_v2::item>(old_item);  // gift: false (default)
    shop::item read_by_old = troupe::wire::decode<shop::item>(new_item);        // gift: skipped
    // [evolution]
    check(read_by_new.sku == "tea" && !read_by_new.gift, "a newer program reads an older item; gift defaults");
    check(read_by_old.sku == "mug" && read_by_old.quantity == 1, "an older program reads a newer item");

    // [encodable]
    static_assert(troupe::encodable<shop::order>, "records are troupe::encodable once codec.hpp is included");
    // [encodable]

    // [frames]
    troupe::wire::frame_writer out;
    out.write_with([&](std::vector<std::byte>& payload) { troupe::wire::encode(order, payload); });
    out.write_with([&](std::vector<std::byte>& payload) { troupe::wire::encode(shop::item{"pot", 1}, payload); });
    // out.pending(): both frames in one buffer, for one write to a socket

    troupe::wire::frame_reader in;
    std::vector<std::vector<std::byte>> frames;
    for (std::byte b : out.pending()) {  // the stream may arrive in pieces of any size
        in.feed({&b, 1});
        while (auto frame = in.next()) {
            frames.emplace_back(frame->begin(), frame->end());
        }
    }
    // [frames]
    check(frames.size() == 2 && troupe::wire::decode<shop::order>(frames[0]).id == 42 &&
              troupe::wire::decode<shop::item>(frames[1]).sku == "pot",
          "two frames written in one buffer are read back one by one, byte by byte");
    return example::exit_status();
}
