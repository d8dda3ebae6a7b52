#pragma once
/// \file
/// Everything troupe offers, in one include. (The async header below needs troupe::async at
/// link time once used.)

#include <troupe/core/actor.hpp>
#include <troupe/core/address.hpp>
#include <troupe/core/errors.hpp>
#include <troupe/core/exit_reason.hpp>
#include <troupe/core/future.hpp>
#include <troupe/core/handles.hpp>
#include <troupe/core/inbox.hpp>
#include <troupe/core/log.hpp>
#include <troupe/core/mailbox.hpp>
#include <troupe/core/message.hpp>
#include <troupe/core/proxy.hpp>
#include <troupe/core/ref.hpp>
#include <troupe/core/registry.hpp>
#include <troupe/core/scheduler.hpp>
#include <troupe/core/scoped.hpp>
#include <troupe/core/spawn_options.hpp>
#include <troupe/core/system.hpp>
#include <troupe/core/timers.hpp>

#include <troupe/async/generator.hpp>
#include <troupe/async/send.hpp>
