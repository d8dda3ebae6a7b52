#include <troupe/core/codec.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/inbox.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

// A typed ref whose endpoint is not a cell of this process. The test double below plays an
// actor elsewhere: every message and every reply crosses it as bytes, through troupe::codec,
// and its end (a stop, or the connection lost) feeds exit reasons, monitors and links, as the
// remote layer's endpoints will.

namespace {

using troupe_test::patience;
using troupe_test::small_system;
using kind = troupe::exit_reason::kind;

struct greet {
    std::string who;
};
struct note {
    std::string text;
};
struct notes {};
/// Has a codec whose decode always fails: the reply cannot be read.
struct garbled {
    int value = 0;
};
/// Has no codec: it can reach local actors only.
struct local_only {
    std::unique_ptr<int> payload;
};

/// A length-prefixed string, the bytes every codec of this test writes.
void put(const std::string& s, std::vector<std::byte>& out) {
    const auto n = static_cast<std::uint32_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(&n);
    out.insert(out.end(), p, p + sizeof n);
    const auto* chars = reinterpret_cast<const std::byte*>(s.data());
    out.insert(out.end(), chars, chars + s.size());
}
std::string take(std::span<const std::byte> in) {
    std::uint32_t n = 0;
    if (in.size() < sizeof n) {
        throw troupe::error("test codec: truncated length");
    }
    std::memcpy(&n, in.data(), sizeof n);
    if (in.size() - sizeof n < n) {
        throw troupe::error("test codec: truncated text");
    }
    return std::string(reinterpret_cast<const char*>(in.data() + sizeof n), n);
}

}  // namespace

template <>
struct troupe::codec<greet> {
    static void encode(const greet& g, std::vector<std::byte>& out) { put(g.who, out); }
    static greet decode(std::span<const std::byte> in) { return greet{take(in)}; }
};
template <>
struct troupe::codec<note> {
    static void encode(const note& n, std::vector<std::byte>& out) { put(n.text, out); }
    static note decode(std::span<const std::byte> in) { return note{take(in)}; }
};
template <>
struct troupe::codec<notes> {
    static void encode(const notes&, std::vector<std::byte>&) {}
    static notes decode(std::span<const std::byte>) { return {}; }
};
template <>
struct troupe::codec<garbled> {
    static void encode(const garbled& g, std::vector<std::byte>& out) { put(std::to_string(g.value), out); }
    static garbled decode(std::span<const std::byte>) { throw troupe::error("garbled: cannot be read back"); }
};
template <>
struct troupe::codec<std::string> {
    static void encode(const std::string& s, std::vector<std::byte>& out) { put(s, out); }
    static std::string decode(std::span<const std::byte> in) { return take(in); }
};
template <>
struct troupe::codec<std::vector<std::string>> {
    static void encode(const std::vector<std::string>& v, std::vector<std::byte>& out) {
        put(std::to_string(v.size()), out);
        for (const auto& s : v) {
            put(s, out);
        }
    }
    static std::vector<std::string> decode(std::span<const std::byte> in) {
        std::string count = take(in);
        in = in.subspan(sizeof(std::uint32_t) + count.size());
        std::vector<std::string> v;
        for (std::size_t i = 0, n = std::stoul(count); i < n; ++i) {
            v.push_back(take(in));
            in = in.subspan(sizeof(std::uint32_t) + v.back().size());
        }
        return v;
    }
};

namespace {

/// The actor "elsewhere": a real actor of this process, reached only through the double.
class greeter : public troupe::actor {
public:
    using handles = troupe::handles<greet, note, notes, garbled>;

    std::string handle(greet g) {
        if (g.who.empty()) {
            throw std::invalid_argument("nobody to greet");
        }
        return "hello, " + g.who;
    }
    void handle(note n) { notes_.push_back(std::move(n.text)); }
    std::vector<std::string> handle(notes) const { return notes_; }
    garbled handle(garbled g) const { return g; }
    void handle(local_only) {}
    int size() const { return static_cast<int>(notes_.size()); }

private:
    std::vector<std::string> notes_;
};

/// An endpoint that stands for `greeter` "in another process": what it is sent is encoded,
/// decoded on the far side and given to the real actor; replies come back the same way. It
/// ends when that actor ends, or when the test cuts the "connection".
class loopback final : public troupe::detail::actor_endpoint {
public:
    explicit loopback(troupe::ref<greeter> far) : far_(std::move(far)) {
        // The far side's end is reported, as a connection would report it.
        far_.exited().then_anywhere(
            [self = troupe::detail::counted_ptr<loopback>(this)](troupe::exit_reason r) { self->end(std::move(r)); });
    }

    /// The connection is lost: the actor is gone, as far as this process can tell.
    void cut() {
        troupe::exit_reason r;
        r.what = kind::failed;
        r.error_type = "troupe::error";
        r.message = "connection lost";
        r.error = std::make_exception_ptr(troupe::error("connection lost"));
        end(std::move(r));
    }
    std::size_t bytes_sent() const {
        std::lock_guard lock(mutex_);
        return bytes_;
    }
    /// Where the notices it is posted are reported, as text.
    void report_notices_to(troupe::address a) {
        std::lock_guard lock(mutex_);
        notices_ = std::move(a);
    }

    void deliver(troupe::detail::untyped_send send) override {
        if (!alive()) {
            throw troupe::actor_dead(name() + " has ended");
        }
        if (send.msg_codec == nullptr) {
            throw troupe::error("a " + send.msg.type_name() + " has no troupe::codec: it cannot reach " + name());
        }
        std::vector<std::byte> wire;
        send.msg_codec->encode(send.msg, wire);
        {
            std::lock_guard lock(mutex_);
            bytes_ += wire.size();
        }
        // The far side: only bytes arrived.
        troupe::message arrived = send.msg_codec->decode(wire);
        if (!(relay<greet>(arrived, send) || relay<note>(arrived, send) || relay<notes>(arrived, send) ||
              relay<garbled>(arrived, send))) {
            throw troupe::error(name() + " does not handle a " + arrived.type_name());
        }
    }
    std::string name() const override { return "greeter@elsewhere"; }
    std::uint64_t id() const noexcept override { return 4242; }
    bool alive() const noexcept override {
        std::lock_guard lock(mutex_);
        return !ended_;
    }
    bool request_stop() override { return far_.endpoint_handle()->request_stop(); }
    bool kill() override { return far_.kill(); }
    troupe::future<void> termination() override { return troupe::detail::make_future(done_); }
    bool terminated() const noexcept override { return done_->ready(); }
    troupe::exit_reason reason() const override {
        std::lock_guard lock(mutex_);
        return reason_;
    }
    bool post_notice(troupe::detail::end_notice n) noexcept override {
        std::lock_guard lock(mutex_);
        if (const auto* signal = std::get_if<troupe::exit_signal>(&n); signal != nullptr && notices_) {
            try {
                notices_.tell("exit_signal from " + signal->name + ": " + signal->reason.describe());
            } catch (...) {
                return false;
            }
        }
        return !ended_;
    }

private:
    ~loopback() override = default;

    template <class M>
    bool relay(troupe::message& arrived, const troupe::detail::untyped_send& send) {
        if (!arrived.is<M>()) {
            return false;
        }
        using R = troupe::detail::reply_t<greeter, M>;
        if (send.reply == nullptr) {
            far_.tell(std::move(arrived.get<M>()));
            return true;
        }
        if (*send.reply_type != typeid(R) || send.reply_coder == nullptr) {
            throw troupe::error("the reply of a " + arrived.type_name() + " cannot come back as asked");
        }
        troupe::detail::state_ptr<troupe::detail::state_base> asker(send.reply);
        asker->add_ref();
        far_.ask(std::move(arrived.get<M>()))
            .then_state([asker, coder = send.reply_coder](troupe::detail::shared_state<R>& s) {
                if (s.has_error()) {
                    asker->try_set_error(s.error());  // the remote layer sends the error's record
                    return;
                }
                std::vector<std::byte> wire;
                if constexpr (!std::is_void_v<R>) {
                    coder->encode(&s.value(), wire);
                }
                coder->complete(*asker.get(), wire);
            });
        return true;
    }

    void end(troupe::exit_reason r) {
        {
            std::lock_guard lock(mutex_);
            if (ended_) {
                return;
            }
            ended_ = true;
            reason_ = std::move(r);
        }
        done_->try_set_value();
    }

    troupe::ref<greeter> far_;
    troupe::detail::state_ptr<troupe::detail::shared_state<void>> done_{troupe::detail::shared_state<void>::make()};
    mutable std::mutex mutex_;
    bool ended_ = false;
    troupe::exit_reason reason_;
    std::size_t bytes_ = 0;
    troupe::address notices_;
};

/// A typed ref to `far` through a new loopback, and the loopback itself.
struct elsewhere {
    troupe::ref<greeter> ref;
    loopback* link;
};
elsewhere through_loopback(const troupe::ref<greeter>& far) {
    auto* l = new loopback(far);
    return {troupe::ref<greeter>(troupe::detail::counted_ptr<troupe::detail::actor_endpoint>::adopt(l)), l};
}

TEST(endpoint, a_ref_to_an_actor_elsewhere_tells_and_asks_through_bytes) {
    troupe::system sys(small_system());
    auto far = sys.spawn<greeter>();
    auto [r, link] = through_loopback(far);
    EXPECT_FALSE(r.is_local());
    EXPECT_TRUE(far.is_local());
    EXPECT_TRUE(r.alive());
    EXPECT_EQ(r.name(), "greeter@elsewhere");
    EXPECT_EQ(r.id(), 4242u);

    EXPECT_EQ(r.ask(greet{"ada"}).get(patience()), "hello, ada");
    r.tell(note{"first"});
    EXPECT_TRUE(r.try_tell(note{"second"}));
    EXPECT_EQ(r.ask(notes{}).get(patience()), (std::vector<std::string>{"first", "second"}));
    EXPECT_GT(link->bytes_sent(), 0u);

    // The untyped address of the same ref takes the same path.
    troupe::address a = r;
    a.tell(note{"third"});
    EXPECT_EQ(a.ask<std::vector<std::string>>(notes{}).get(patience()).size(), 3u);
}

TEST(endpoint, failures_elsewhere_reach_the_sender) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    auto far = sys.spawn<greeter>();
    auto [r, link] = through_loopback(far);
    // The handler's exception comes back to the asker.
    EXPECT_THROW(r.ask(greet{""}).get(patience()), std::invalid_argument);
    // A reply whose bytes cannot be read fails the ask with the codec's error.
    auto unreadable = r.ask(garbled{7});
    EXPECT_THROW(unreadable.get(patience()), troupe::error);
    // A message without a codec cannot leave the process: tell throws, try_tell says no and
    // ask fails; the far actor never sees it.
    EXPECT_THROW(r.tell(local_only{}), troupe::error);
    EXPECT_FALSE(r.try_tell(local_only{}));
    EXPECT_THROW(r.ask(local_only{}).get(patience()), troupe::error);
    // Proxy calls carry C++ closures: they reach only actors of this process.
    EXPECT_THROW((void)r.call(&greeter::size), troupe::error);
    // An awaited send gets its backpressure from a local mailbox; elsewhere it is refused.
    EXPECT_THROW((void)r.send(note{"waits"}), troupe::error);
    EXPECT_EQ(far.call(&greeter::size).get(patience()), 0);
}

TEST(endpoint, stop_and_exit_reasons_come_from_the_endpoint) {
    troupe::system sys(small_system());
    auto far = sys.spawn<greeter>();
    auto [r, link] = through_loopback(far);
    EXPECT_TRUE(r.stop(patience()));
    EXPECT_EQ(r.exited().get(patience()).what, kind::stopped);
    EXPECT_FALSE(r.alive());
    EXPECT_FALSE(r.stop(patience())) << "already ended";
    EXPECT_THROW(r.tell(note{"late"}), troupe::actor_dead);
    EXPECT_THROW(r.ask(greet{"late"}).get(patience()), troupe::actor_dead);

    auto far2 = sys.spawn<greeter>();
    auto [r2, link2] = through_loopback(far2);
    EXPECT_TRUE(r2.kill());
    EXPECT_EQ(r2.exited().get(patience()).what, kind::killed);
}

struct watch {
    troupe::ref<greeter> target;
};
struct link_with {
    troupe::ref<greeter> target;
};
struct fail_now {};
/// Monitors or links to what it is told, and reports each down to an inbox.
class watcher : public troupe::actor {
public:
    explicit watcher(troupe::address report) : report_(std::move(report)) {}
    void handle(watch w) { self().monitor(w.target); }
    void handle(link_with l) { self().link(l.target); }
    void handle(fail_now) { throw std::runtime_error("watcher gave up"); }
    void handle(troupe::down d) { report_.tell(d.name + " " + d.reason.describe()); }

private:
    troupe::address report_;
};

TEST(endpoint, a_monitor_is_told_when_the_actor_elsewhere_is_lost) {
    troupe::system sys(small_system());
    troupe::inbox reports(sys);
    auto far = sys.spawn<greeter>();
    auto [r, link] = through_loopback(far);
    auto w = sys.spawn<watcher>(reports.address());
    w.ask(watch{r}).get(patience());
    link->cut();
    EXPECT_EQ(reports.receive<std::string>(patience()), "greeter@elsewhere failed: troupe::error: connection lost");
    EXPECT_FALSE(r.alive());
    EXPECT_EQ(r.exited().get(patience()).message, "connection lost");
    EXPECT_TRUE(far.alive()) << "only the connection was lost";
}

TEST(endpoint, a_link_fails_the_local_actor_when_the_actor_elsewhere_is_lost) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    troupe::inbox reports(sys);
    auto far = sys.spawn<greeter>();
    auto [r, link] = through_loopback(far);
    auto w = sys.spawn<watcher>(reports.address());
    w.ask(link_with{r}).get(patience());
    link->cut();
    const troupe::exit_reason why = w.exited().get(patience());
    EXPECT_EQ(why.what, kind::failed);
    EXPECT_EQ(why.error_type, "troupe::linked_failure");
}

TEST(endpoint, a_link_tells_the_actor_elsewhere_when_the_local_one_fails) {
    troupe_test::log_capture quiet;
    troupe::system sys(small_system());
    troupe::inbox reports(sys);
    auto far = sys.spawn<greeter>();
    auto [r, link] = through_loopback(far);
    troupe::inbox notices(sys);
    link->report_notices_to(notices.address());
    auto w = sys.spawn<watcher>(reports.address());
    w.ask(link_with{r}).get(patience());
    w.tell(fail_now{});
    EXPECT_EQ(notices.receive<std::string>(patience()),
              "exit_signal from " + w.name() + ": failed: std::runtime_error: watcher gave up");
    EXPECT_TRUE(r.alive()) << "the actor elsewhere decides what an exit signal does to it";
}

TEST(endpoint, an_empty_ref_cannot_be_monitored) {
    troupe::system sys(small_system());
    troupe::inbox reports(sys);
    auto w = sys.spawn<watcher>(reports.address());
    EXPECT_THROW(w.ask(watch{troupe::ref<greeter>()}).get(patience()), troupe::actor_dead);
}

}  // namespace
