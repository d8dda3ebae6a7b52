// Generators: the checks a next() makes before it resumes the body.

#include <troupe/async/generator.hpp>

#include <troupe/core/log.hpp>

namespace troupe::detail {

void begin_next(cell_base*& home, bool pending, const cancel_scope* scope) {
    if (pending) {
        throw error(
            "troupe::generator: next() while another next() of the same generator is pending (one consumer at a "
            "time)");
    }
    cell_base* cell = running_cell();
    if (home == nullptr) {
        home = cell;  // made outside any actor: it belongs to its first consumer's
    } else if (cell != home) {
        // Only compared, never dereferenced: the actor that made it may have ended.
        throw error(
            "troupe::generator: next() called outside the actor that made the generator; its body may use that "
            "actor's state, so it resumes only there");
    }
    if (cell != nullptr && (cell->cancelling() || (scope != nullptr && scope->cancelled()))) {
        throw troupe::cancelled(cell->name() + ": next() of a generator was cancelled before it began");
    }
}

void generator_destroyed_while_pending() noexcept {
    try {
        troupe::logger()->critical(
            "troupe::generator destroyed while one of its next() is pending: its body is suspended in an await "
            "that would resume a freed frame");
    } catch (...) {}
    std::terminate();
}

}  // namespace troupe::detail
