#include <troupe/remote/errors.hpp>

#include <gtest/gtest.h>

#include <string>

TEST(RemoteActorError, SaysWhoRaisedWhat) {
    const troupe::remote_actor_error e("donny#2@4121", "std::invalid_argument", "no such cellar", "#0 f()\n");
    EXPECT_STREQ(e.what(), "donny#2@4121 raised std::invalid_argument: no such cellar");
    EXPECT_EQ(e.actor(), "donny#2@4121");
    EXPECT_EQ(e.type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "no such cellar");
    EXPECT_EQ(e.backtrace(), "#0 f()\n");
}

TEST(RemoteActorError, IsATroupeError) {
    try {
        throw troupe::remote_actor_error("a#1@1", "", "");
    } catch (const troupe::error& e) {
        EXPECT_STREQ(e.what(), "a#1@1 raised an exception");
    }
}
