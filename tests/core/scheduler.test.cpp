#include <troupe/core/scheduler.hpp>

#include "test_support.hpp"

#include <troupe/core/inbox.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/system.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

// The worker pool: options, running and re-running jobs, fairness between actors, and handing
// work on when a worker blocks.

namespace scheduler_tests {

using troupe_test::gate;
using troupe_test::patience;
using troupe_test::small_system;

TEST(scheduler, options_have_sensible_defaults) {
    troupe::scheduler_options o;
    EXPECT_EQ(o.workers, 0u);
    EXPECT_EQ(o.batch, 64u);
    EXPECT_EQ(o.spin_rounds, 2000u);
}

TEST(scheduler, options_are_applied) {
    troupe::scheduler two({.workers = 2, .batch = 8, .spin_rounds = 10});
    EXPECT_EQ(two.workers(), 2u);
    EXPECT_EQ(two.batch(), 8u);
    troupe::scheduler fallback({.workers = 0, .batch = 0, .spin_rounds = 10});
    EXPECT_EQ(fallback.workers(), std::max(1u, std::thread::hardware_concurrency()));
    EXPECT_EQ(fallback.batch(), 1u) << "a batch of 0 would never run anything";
}

/// A job that yields `yields` times, then reports the threads it ran on.
class counting_job final : public troupe::detail::job {
public:
    counting_job(troupe::scheduler& s, int yields) : scheduler_(s), yields_(yields) {}
    void run_job() noexcept override {
        threads_.insert(std::this_thread::get_id());
        if (++runs_ <= yields_) {
            scheduler_.yield(this);
            return;
        }
        done_.set_value(runs_);
    }
    std::future<int> done() { return done_.get_future(); }
    const std::set<std::thread::id>& threads() const { return threads_; }

private:
    troupe::scheduler& scheduler_;
    int yields_;
    int runs_ = 0;
    std::set<std::thread::id> threads_;
    std::promise<int> done_;
};

TEST(scheduler, runs_a_job_on_a_worker_thread) {
    troupe::scheduler s({.workers = 2, .batch = 64, .spin_rounds = 100});
    counting_job job(s, 0);
    auto done = job.done();
    s.schedule(&job);
    ASSERT_EQ(done.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(done.get(), 1);
    EXPECT_EQ(job.threads().count(std::this_thread::get_id()), 0u);
    s.shutdown();
}

TEST(scheduler, a_yielded_job_runs_again) {
    troupe::scheduler s({.workers = 2, .batch = 64, .spin_rounds = 100});
    counting_job job(s, 100);
    auto done = job.done();
    s.schedule(&job);
    ASSERT_EQ(done.wait_for(patience()), std::future_status::ready);
    EXPECT_EQ(done.get(), 101);
    s.shutdown();  // joins the workers before the job goes away
}

TEST(scheduler, every_scheduled_job_runs_once) {
    troupe::scheduler s({.workers = 2, .batch = 64, .spin_rounds = 100});
    std::vector<std::unique_ptr<counting_job>> jobs;
    std::vector<std::future<int>> done;
    for (int i = 0; i < 1000; ++i) {
        jobs.push_back(std::make_unique<counting_job>(s, 0));
        done.push_back(jobs.back()->done());
    }
    std::thread other([&] {
        for (int i = 500; i < 1000; ++i) {
            s.schedule(jobs[i].get());
        }
    });
    for (int i = 0; i < 500; ++i) {
        s.schedule(jobs[i].get());
    }
    other.join();
    for (auto& d : done) {
        ASSERT_EQ(d.wait_for(patience()), std::future_status::ready);
        EXPECT_EQ(d.get(), 1);
    }
    s.shutdown();
}

TEST(scheduler, shutdown_is_idempotent) {
    troupe::scheduler s({.workers = 2, .batch = 64, .spin_rounds = 100});
    s.shutdown();
    EXPECT_NO_THROW(s.shutdown());
}

// Fairness: an actor that keeps itself busy for ever yields after each batch, so another actor
// on the same single worker is still served.
struct spin {};
struct halt {};
struct ping {};

class busy : public troupe::actor {
public:
    void handle(spin) {
        if (!halted_) {
            troupe::ref{this}.tell(spin{});
        }
    }
    void handle(halt) { halted_ = true; }

private:
    bool halted_ = false;
};

class responsive : public troupe::actor {
public:
    int handle(ping) { return 1; }
};

TEST(scheduler, a_busy_actor_does_not_starve_another) {
    troupe::system_options o = small_system(1);
    o.scheduler.batch = 4;
    troupe::system sys(o);
    auto spinner = sys.spawn<busy>();
    auto other = sys.spawn<responsive>();
    spinner.tell(spin{});
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(other.ask(ping{}).get(patience()), 1);
    }
    spinner.tell(halt{});
    EXPECT_TRUE(spinner.stop());
}

// A pool worker about to block on a reply hands its pending work to the other workers first:
// the actor it just woke (scheduled to run next on this very worker) must not wait behind it.
struct relay {
    troupe::ref<responsive> to;
};

class asker : public troupe::actor {
public:
    int handle(relay r) { return r.to.ask(ping{}).get(patience()) + 1; }
};

TEST(scheduler, a_blocking_worker_hands_its_work_on) {
    troupe::system sys(small_system(2));
    auto a = sys.spawn<asker>();
    auto b = sys.spawn<responsive>();
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(a.ask(relay{b}).get(patience()), 2);
    }
}

// Many actors passing a token round a ring: every hop arrives, in order, across the workers.
struct token {
    int hops_left;
    troupe::address report;
};

class ring_member : public troupe::actor {
public:
    void set_next(troupe::ref<ring_member> next) { next_ = std::move(next); }
    void handle(token t) {
        if (t.hops_left == 0) {
            t.report.tell(self().id());
            return;
        }
        --t.hops_left;
        next_.tell(std::move(t));
    }

private:
    troupe::ref<ring_member> next_;
};

TEST(scheduler, a_token_travels_a_ring_of_actors) {
    constexpr int members = 50;
    constexpr int hops = 10'000;
    troupe::system sys(small_system());
    troupe::inbox done(sys);
    std::vector<troupe::ref<ring_member>> ring;
    for (int i = 0; i < members; ++i) {
        ring.push_back(sys.spawn<ring_member>());
    }
    for (int i = 0; i < members; ++i) {
        ring[i].call(&ring_member::set_next, ring[(i + 1) % members]).get(patience());
    }
    ring[0].tell(token{hops, done.address()});
    EXPECT_EQ(done.receive<std::uint64_t>(patience()), ring[hops % members].id());
}

// The run-next slot has a budget: two actors that keep messaging each other run one after the
// other on one worker, but after a few turns the work queued behind them gets its turn.
struct ball {};

class witness : public troupe::actor {
public:
    witness(std::shared_ptr<std::atomic<bool>> done, gate& seen) : done_(std::move(done)), seen_(seen) {}
    void handle(ping) {
        done_->store(true);
        seen_.open();
    }

private:
    std::shared_ptr<std::atomic<bool>> done_;
    gate& seen_;
};

struct kickoff {
    troupe::ref<witness> bystander;
};

class bouncer : public troupe::actor {
public:
    explicit bouncer(std::shared_ptr<std::atomic<bool>> done) : done_(std::move(done)) {}
    void set_peer(troupe::ref<bouncer> peer) { peer_ = std::move(peer); }
    void handle(kickoff k) {
        k.bystander.tell(ping{});  // queued first...
        peer_.tell(ball{});        // ...then an endless exchange that takes the run-next slot
    }
    void handle(ball) {
        if (!done_->load()) {
            peer_.tell(ball{});
        }
    }

private:
    std::shared_ptr<std::atomic<bool>> done_;
    troupe::ref<bouncer> peer_;
};

/// `pairs` endless exchanges on `workers` workers, each started right after a tell to one
/// bystander: the bystander must still run.
void expect_bystander_runs(unsigned workers, int pairs) {
    gate seen;  // outlives the system, whose actors use it
    troupe::system sys(small_system(workers));
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto bystander = sys.spawn<witness>(done, seen);
    std::vector<troupe::ref<bouncer>> starters;
    for (int p = 0; p < pairs; ++p) {
        auto a = sys.spawn<bouncer>(done);
        auto b = sys.spawn<bouncer>(done);
        a.call(&bouncer::set_peer, b).get(patience());
        b.call(&bouncer::set_peer, a).get(patience());
        starters.push_back(a);
    }
    for (auto& a : starters) {
        a.tell(kickoff{bystander});
    }
    EXPECT_TRUE(seen.wait()) << "the exchanges held every worker";
    done->store(true);  // ends the exchanges either way
}

TEST(scheduler, an_endless_exchange_does_not_starve_a_queued_actor) {
    expect_bystander_runs(1, 1);
}

TEST(scheduler, one_exchange_per_worker_does_not_starve_a_queued_actor) {
    expect_bystander_runs(2, 2);
}

/// Holds its worker inside a handler until released.
struct hold {
    troupe::ref<witness> then_wake;
};

class holder : public troupe::actor {
public:
    explicit holder(gate& release) : release_(release) {}
    void handle(hold h) {
        h.then_wake.tell(ping{});  // lands in this worker's run-next slot
        release_.wait();           // a long turn: only a thief can run the witness now
    }

private:
    gate& release_;
};

TEST(scheduler, a_thief_takes_the_next_job_of_a_worker_stuck_in_a_long_turn) {
    gate seen;  // the gates outlive the system, whose actors use them
    gate release;
    troupe::system sys(small_system(2));
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto bystander = sys.spawn<witness>(done, seen);
    auto h = sys.spawn<holder>(release);
    h.tell(hold{bystander});
    EXPECT_TRUE(seen.wait()) << "the job waited behind a long turn while another worker was free";
    release.open();
}

}  // namespace scheduler_tests
