// Backpressure: inside a coroutine handler, `co_await target.send(m)` waits, suspended, while
// the target's bounded mailbox is full, and queues the message once there is room. A fast
// producer goes at the pace of a slower consumer; no thread blocks, and nothing is dropped or
// refused, whatever the mailbox's overflow policy (the policy is what a tell does).

#include <troupe/async/send.hpp>
#include <troupe/troupe.hpp>

#include <iostream>
#include <utility>

#include "../check.hpp"

struct sample {
    int n;
};
/// Counts the samples it gets, and checks they come in order.
class consumer : public troupe::actor {
public:
    consumer(int& received, bool& in_order) : received_(received), in_order_(in_order) {}
    void handle(sample s) {
        in_order_ = in_order_ && s.n == count_ + 1;
        ++count_;
    }

protected:
    void on_stop() override { received_ = count_; }

private:
    int count_ = 0;
    int& received_;
    bool& in_order_;
};

struct stream {
    int count;
};
class producer : public troupe::actor {
public:
    explicit producer(troupe::ref<consumer> to) : to_(std::move(to)) {}
    troupe::task<int> handle(stream s) {
        int sent = 0;
        try {
            for (int n = 1; n <= s.count; ++n) {
                sample next{n};                      // named first, then moved into the send
                co_await to_.send(std::move(next));  // waits while the mailbox is full
                ++sent;
            }
        } catch (const troupe::actor_dead&) {
            // The consumer stopped (before the send, or while it waited): that sample is lost.
        }
        co_return sent;
    }

private:
    troupe::ref<consumer> to_;
};

using example::check;

int main() {
    troupe::system sys;
    int received = 0;
    bool in_order = true;

    troupe::spawn_options small;
    small.mailbox.capacity = 4;                          // room for 4 queued samples
    small.mailbox.on_overflow = troupe::overflow::fail;  // a tell to a full mailbox would throw
    auto c = sys.spawn<consumer>(small, received, in_order);
    auto p = sys.spawn<producer>(c);
    const int sent = p.ask(stream{10'000}).get();
    c.stop();
    std::cout << "sent " << sent << ", received " << received << ", dead letters " << sys.dead_letters() << '\n';
    check(sent == 10'000 && received == 10'000, "every sample got through the 4-message mailbox");
    check(in_order, "in the order they were sent");
    check(sys.dead_letters() == 0, "none was dropped or refused");

    // To a consumer that has stopped, the awaited send throws troupe::actor_dead.
    check(p.ask(stream{3}).get() == 0, "a send to a stopped consumer throws actor_dead");
    return example::exit_status();
}
