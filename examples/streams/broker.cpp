// The embedded broker on its own: a topic of partitions, a consumer group of two members that
// share them, and a commit that says how far the group has come. Stream apps and agents are
// built on this interface; the same code runs on any broker open_broker knows.

#include <troupe/streams/broker.hpp>
#include <troupe/streams/offset_tracker.hpp>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "../check.hpp"

using example::check;
namespace streams = troupe::streams;

int main() {
    auto broker = streams::open_broker("memory://");
    broker->create_topic("orders", 4);
    for (const char* customer : {"alice", "bob", "carol", "dave", "erin", "frank"}) {
        // A key always goes to the same partition: a customer's orders stay in order.
        const auto where = broker
                               ->produce({.topic = "orders",
                                          .key = streams::bytes_of(customer),
                                          .value = streams::bytes_of(std::string("order of ") + customer)})
                               .get();
        std::cout << customer << " -> " << streams::to_string({where.topic, where.partition}) << " @" << where.offset
                  << '\n';
    }

    // Two members of the group "billing": each reads two of the four partitions. The second
    // joining is a rebalance: two partitions are revoked from the first, which has nothing of
    // them to finish, and gives them up at once.
    auto first = broker->subscribe("billing", {"orders"});
    auto second = broker->subscribe("billing", {"orders"});
    check(first->revoking().size() == 2 && second->assignment().empty(),
          "the first member is asked to give up two partitions, which the second waits for");
    first->release(first->revoking());
    check(first->assignment().size() == 2 && second->assignment().size() == 2,
          "the group's members share its partitions");

    // The first member reads what there is of its partitions (one fetch takes up to 100) and
    // finishes the records in any order; a tracker per partition says how far it may commit.
    std::map<streams::topic_partition, streams::offset_tracker> trackers;
    for (const auto& tp : first->assignment()) {
        trackers.emplace(tp, streams::offset_tracker(broker->committed("billing", tp).value_or(0)));
    }
    const std::vector<streams::record_ptr> records = first->fetch(100).get();
    for (const auto& r : records) {
        trackers.at({r->topic, r->partition}).read(r->offset);
    }
    for (auto r = records.rbegin(); r != records.rend(); ++r) {  // finished last to first
        trackers.at({(*r)->topic, (*r)->partition}).ack((*r)->offset);
    }
    std::vector<std::pair<streams::topic_partition, std::uint64_t>> commits;
    for (auto& [tp, t] : trackers) {
        commits.emplace_back(tp, t.committable());
    }
    first->commit(commits);
    std::size_t committed = 0;
    for (const auto& [tp, offset] : commits) {
        std::cout << "billing committed " << streams::to_string(tp) << " at " << offset << '\n';
        committed += offset;
    }
    check(committed == records.size(), "everything it read and finished is committed");
    check(!records.empty(), "the first member read its partitions' records");
    return example::exit_status();
}
