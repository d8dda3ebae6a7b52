// Pykka's "Traversable attributes on proxies": member() gives the proxy of a member object, whose
// methods and fields are reached through the actor's mailbox, at any depth.

#include <troupe/troupe.hpp>

#include <iostream>
#include <syncstream>

#include "../check.hpp"

struct mixer {
    int volume = 100;
    void set_volume(int v) { volume = v; }
};

struct playback {
    bool playing = false;
    mixer output;
    bool play() {
        playing = true;
        return true;
    }
};

class player : public troupe::actor {
public:
    // Any public data member can be traversed; no marking needed.
    ::playback playback;
};

using example::check;

int main() {
    troupe::system sys;
    auto ref = sys.spawn<player>();

    // Pykka: proxy.playback.play().get()
    bool play_success = ref.member(&player::playback).call(&playback::play).get();
    std::cout << "playback.play() returned " << std::boolalpha << play_success << '\n';
    check(play_success, "a method of a member object");
    check(ref.member(&player::playback).get(&playback::playing).get(), "a field of a member object");

    // Two levels down: player.playback.output.
    auto output = ref.member(&player::playback).member(&playback::output);
    output.call(&mixer::set_volume, 30);
    int volume = output.get(&mixer::volume).get();
    std::cout << "playback.output.volume = " << volume << '\n';
    check(volume == 30, "methods and fields two members down");
    output.set(&mixer::volume, 80).get();
    check(output.get(&mixer::volume).get() == 80, "set() two members down");
    return example::exit_status();
}
