#include <troupe/core/handles.hpp>

#include "test_support.hpp"

#include <troupe/core/address.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

// handles<M...>: the list of message types an actor takes through an untyped address.

namespace handles_tests {

using troupe_test::patience;
using troupe_test::small_system;

struct listed {
    int v;
};
struct unlisted {
    int v;
};
/// Answered through a promise, later.
struct deferred {
    using reply_type = std::string;
    std::string text;
};
struct flush {};

static_assert(std::is_empty_v<troupe::handles<>>);
static_assert(std::is_empty_v<troupe::handles<listed, unlisted>>);

class selective : public troupe::actor {
public:
    using handles = troupe::handles<listed, deferred, flush>;
    int handle(listed l) {
        seen_.push_back("listed " + std::to_string(l.v));
        return l.v * 2;
    }
    int handle(unlisted u) {
        seen_.push_back("unlisted " + std::to_string(u.v));
        return u.v * 3;
    }
    void handle(deferred d, troupe::promise<std::string> p) { pending_.emplace_back(d.text, std::move(p)); }
    void handle(flush) {
        for (auto& [text, p] : pending_) {
            p.set_value(text + "!");
        }
        pending_.clear();
    }
    std::vector<std::string> seen() const { return seen_; }

private:
    std::vector<std::string> seen_;
    std::vector<std::pair<std::string, troupe::promise<std::string>>> pending_;
};

// The list, not the overload set, decides what an address takes.
TEST(handles, only_listed_types_pass_through_an_address) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = sys.spawn<selective>();
    troupe::address a = r;
    a.tell(listed{1});
    a.tell(unlisted{2});
    EXPECT_EQ(sys.dead_letters(), 1u);
    EXPECT_THROW((void)a.ask<int>(unlisted{3}).get(patience()), troupe::unhandled_message);
    EXPECT_EQ(sys.dead_letters(), 2u);
    // A typed ref checks the overloads at compile time, and so still reaches the unlisted one.
    EXPECT_EQ(r.ask(unlisted{4}).get(patience()), 12);
    EXPECT_EQ(r.call(&selective::seen).get(patience()), (std::vector<std::string>{"listed 1", "unlisted 4"}));
}

TEST(handles, a_listed_type_is_answered_through_an_address) {
    troupe::system sys(small_system());
    troupe::address a = sys.spawn<selective>();
    EXPECT_EQ(a.ask<int>(listed{2}).get(patience()), 4);
}

// A listed message whose handler takes a promise is answered through the address, later; told,
// its promise is simply never read.
TEST(handles, a_promise_taking_handler_answers_through_an_address) {
    troupe::system sys(small_system());
    auto r = sys.spawn<selective>();
    troupe::address a = r;
    auto f = a.ask<std::string>(deferred{"late"});
    a.tell(deferred{"nobody reads this"});
    a.tell(flush{});
    EXPECT_EQ(f.get(patience()), "late!");
    r.tell(deferred{"typed tell"});
    auto typed = r.ask(deferred{"typed ask"});
    r.tell(flush{});
    EXPECT_EQ(typed.get(patience()), "typed ask!");
}

// A derived actor declares its own list, which may widen or narrow its base's.
struct extra {};
class wider : public selective {
public:
    using handles = troupe::handles<listed, extra>;
    using selective::handle;
    void handle(extra) { ++extras_; }
    int extras() const { return extras_; }

private:
    int extras_ = 0;
};

TEST(handles, a_derived_actor_declares_its_own_list) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto r = sys.spawn<wider>();
    troupe::address a = r;
    a.tell(extra{});
    a.tell(listed{5});
    EXPECT_THROW((void)a.ask<void>(flush{}).get(patience()), troupe::unhandled_message);
    EXPECT_EQ(r.call(&wider::extras).get(patience()), 1);
    EXPECT_EQ(r.call(&wider::seen).get(patience()), std::vector<std::string>{"listed 5"});
    EXPECT_EQ(sys.dead_letters(), 1u);
}

}  // namespace handles_tests
