// Faust's Streams guide, "Processors": functions a stream runs on every value, in the order they
// were added, before the value is given out; a plain function and a coroutine.

#include <troupe/streams/app.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../check.hpp"

struct MyModel {
    std::string account_id;
    std::string language;
    std::string client;
};
TROUPE_RECORD(MyModel, account_id, language, client);

namespace streams = troupe::streams;
using example::check;

// What the coroutine processor looks up (Faust's example asks a web service).
const std::map<std::string, std::string> client_info{{"alice", "firefox"}, {"bob", "curl"}};

troupe::task<std::string> get_http_client_info(std::string account_id) {
    const auto found = client_info.find(account_id);
    co_return found != client_info.end() ? found->second : "unknown";
}

MyModel add_default_language(MyModel value) {
    if (value.language.empty()) {
        value.language = "US";
    }
    return value;
}

troupe::task<MyModel> add_client_info(MyModel value) {
    troupe::task<std::string> info = get_http_client_info(value.account_id);
    value.client = co_await std::move(info);
    co_return value;
}

// A processor that throws streams::skip drops the value (it is acknowledged all the same).
MyModel drop_anonymous(MyModel value) {
    if (value.account_id.empty()) {
        throw streams::skip();
    }
    return value;
}

int main() {
    streams::app app{"processors", {.broker = "memory://processors", .topic_partitions = 1}};
    auto& my_topic = app.topic<std::string, MyModel>("my_topic");
    auto& s = app.stream(my_topic);

    std::vector<MyModel> values;
    troupe::promise<void> all_processed;
    app.task([&]() -> troupe::task<void> {
        // In the order added: the language, then the client info, then the check that drops.
        s.add_processor(add_default_language).add_processor(add_client_info).add_processor(drop_anonymous);
        while (std::optional<MyModel> value = co_await s.next()) {
            // All processors applied here.
            std::cout << value->account_id << ": " << value->language << ", " << value->client << '\n';
            values.push_back(std::move(*value));
            if (values.size() == 2) {
                all_processed.set_value();
            }
        }
    });

    app.start();
    my_topic.send(MyModel{"alice", "", ""}).get();
    my_topic.send(MyModel{"", "NO", ""}).get();  // dropped
    my_topic.send(MyModel{"bob", "SE", ""}).get();
    all_processed.get_future().get();
    app.stop();

    check(values.size() == 2 && values[0].language == "US" && values[0].client == "firefox",
          "a value without a language got the default and its client info");
    check(values.size() == 2 && values[1].language == "SE" && values[1].client == "curl",
          "a value with a language kept it and got its client info");
    check(app.broker().committed("processors-stream-1", {"my_topic", 0}) == 3U,
          "the skipped value was acknowledged and committed with the others");
    return example::exit_status();
}
