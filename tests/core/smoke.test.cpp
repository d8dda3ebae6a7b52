#include <troupe/troupe.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

struct greet {
    std::string name;
};

class greeter : public troupe::actor {
public:
    explicit greeter(std::string greeting) : greeting_(std::move(greeting)) {}
    std::string handle(greet g) { return greeting_ + ", " + g.name + "!"; }
    int calls = 0;
    int add(int a, int b) {
        ++calls;
        return a + b;
    }

private:
    std::string greeting_;
};

TEST(smoke, ask_and_proxy) {
    troupe::system sys;
    auto g = sys.spawn<greeter>("Hi");
    EXPECT_EQ(g.ask(greet{"Ann"}).get(), "Hi, Ann!");
    EXPECT_EQ(g.call(&greeter::add, 1, 3).get(), 4);
    EXPECT_EQ(g.get(&greeter::calls).get(), 1);
    g.set(&greeter::calls, 17).get();
    EXPECT_EQ(g.get(&greeter::calls).get(), 17);
    EXPECT_TRUE(g.stop());
    EXPECT_FALSE(g.stop());
    EXPECT_THROW(g.tell(greet{"x"}), troupe::actor_dead);
}

}  // namespace
