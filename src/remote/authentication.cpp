// authentication: the process's TCP authentication settings, as the environment gives them.

#include <troupe/remote/authentication.hpp>

namespace troupe::remote {

authentication authentication::from_environment() {
    authentication a;
    a.secret = shared_secret::from_environment();
    return a;
}

}  // namespace troupe::remote
