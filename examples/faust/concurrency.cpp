// Faust's "Actors" guide, "Concurrency": several instances of one agent share its stream, so
// values are processed out of order; each value goes to one instance, and what is committed
// never passes a value that an instance is still working on.

#include <troupe/async/await.hpp>
#include <troupe/streams/app.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "../check.hpp"

namespace streams = troupe::streams;
using example::check;

struct Article {
    int id = 0;
    std::string url;
};
TROUPE_RECORD(Article, id, url);

int main() {
    streams::app app{"news-example", {.broker = "memory://news-example", .topic_partitions = 2}};
    auto& news_topic = app.topic<std::string, Article>("news");

    std::mutex lock;
    std::set<int> stored;
    std::atomic<int> left{40};
    troupe::promise<void> all_stored;
    auto imports_news = [&](streams::stream<std::string, Article>& articles) -> troupe::task<void> {
        while (std::optional<Article> article = co_await articles.next()) {
            // Fetching the article takes a while, longer for some: the instances finish out of
            // order.
            co_await troupe::sleep_for(std::chrono::milliseconds(article->id % 3));
            {
                const std::lock_guard guard(lock);
                stored.insert(article->id);
            }
            if (left.fetch_sub(1) == 1) {
                all_stored.set_value();
            }
        }
    };
    auto& agent = app.agent("imports_news", news_topic, imports_news, {.concurrency = 8});

    for (int i = 0; i < 40; ++i) {
        news_topic.send(Article{i, "https://news.example/" + std::to_string(i)}).get();
    }
    app.start();
    all_stored.get_future().get();
    app.stop();

    std::uint64_t committed = 0;
    for (std::uint32_t p = 0; p < news_topic.partitions(); ++p) {
        committed += app.broker().committed(agent.group(), {"news", p}).value_or(0);
    }
    std::cout << "stored " << stored.size() << " articles; committed " << committed << '\n';
    check(stored.size() == 40, "eight instances stored every article once");
    check(committed == 40, "and the commit covers all of them");
    return example::exit_status();
}
