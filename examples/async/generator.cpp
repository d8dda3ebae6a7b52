// Asynchronous generators: a reader pulls the pages of a book, one at a time, from a library
// actor. Between two pages the generator asks the library for the next one and paces itself
// with sleep_for; the reader's coroutine handler iterates it with co_await next(). Nothing is
// fetched before the reader asks for it, and a reader that stops early fetches no more.

#include <troupe/async/generator.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstddef>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <syncstream>
#include <utility>
#include <vector>

#include "../check.hpp"

using namespace std::chrono_literals;

struct page_request {
    std::string title;
    std::size_t number;
};
struct served_query {};

/// Holds one book; answers one page per ask, nothing past the end.
class library : public troupe::actor {
public:
    std::optional<std::string> handle(page_request r) {
        if (r.title != "troupe") {
            throw std::runtime_error("the library has no book called '" + r.title + "'");
        }
        ++pages_served_;
        if (r.number >= book_.size()) {
            return std::nullopt;
        }
        return book_[r.number];
    }
    int handle(served_query) { return pages_served_; }

private:
    std::vector<std::string> book_{"Actors run one message at a time.", "Coroutines wait without a thread.",
                                   "Nurseries keep what they start."};
    int pages_served_ = 0;
};

/// The pages of a book, fetched lazily: each next() of the reader runs this body up to its next
/// co_yield, which asks the library (the reader's actor waits, no thread does) and then pauses.
troupe::generator<std::string> pages(troupe::ref<library> lib, std::string title) {
    for (std::size_t n = 0;; ++n) {
        troupe::future<std::optional<std::string>> reply = lib.ask(page_request{title, n});
        std::optional<std::string> page = co_await std::move(reply);
        if (!page) {
            co_return;  // the end of the book: the reader's next() gives std::nullopt
        }
        co_await troupe::sleep_for(1ms);  // read at a gentle pace
        co_yield std::move(*page);
    }
}

struct read_book {
    std::string title;
    std::size_t at_most;
};

class reader : public troupe::actor {
public:
    explicit reader(troupe::ref<library> lib) : lib_(std::move(lib)) {}

    troupe::task<std::vector<std::string>> handle(read_book r) {
        std::vector<std::string> read_pages;
        troupe::generator<std::string> book = pages(lib_, r.title);  // nothing fetched yet
        while (std::optional<std::string> page = co_await book.next()) {
            std::osyncstream(std::cout) << "  page " << read_pages.size() + 1 << ": " << *page << '\n';
            read_pages.push_back(std::move(*page));
            if (read_pages.size() == r.at_most) {
                break;  // `book` goes at the end of the handler: its frame is destroyed, nothing more is fetched
            }
        }
        co_return read_pages;
    }

private:
    troupe::ref<library> lib_;
};

using example::check;

int main() {
    troupe::system sys;
    auto lib = sys.spawn<library>();
    auto r = sys.spawn<reader>(lib);

    std::cout << "reading the whole book:\n";
    std::vector<std::string> all = r.ask(read_book{"troupe", 10}).get(5s);
    check(all.size() == 3, "the generator gives every page, in order, then ends");
    check(lib.ask(served_query{}).get(5s) == 4, "four asks: three pages and the one that found the end");

    std::cout << "reading two pages only:\n";
    std::vector<std::string> two = r.ask(read_book{"troupe", 2}).get(5s);
    check(two.size() == 2 && two[1] == all[1], "a reader can stop early");
    check(lib.ask(served_query{}).get(5s) == 6, "and nothing past what it read is fetched (lazy)");

    std::cout << "reading a book the library does not have:\n";
    try {
        r.ask(read_book{"cookbook", 10}).get(5s);
        check(false, "the library's error reaches the reader");
    } catch (const std::runtime_error& e) {
        std::cout << "  " << e.what() << '\n';
        check(std::string(e.what()).find("no book called 'cookbook'") != std::string::npos,
              "the library's error is thrown at the reader's next(), and reaches the asker");
    }
    return example::exit_status();
}
