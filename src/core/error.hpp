// Errors that reach the user: input errors exit with code 2, run failures with code 1.
#pragma once

#include <stdexcept>
#include <string>

namespace frost::core {

/// Bad input (deck, command line, lattice file): the message names the file, the key and what is
/// allowed. The program exits with code 2 and writes nothing.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Exit code for bad input.
inline constexpr int kInputErrorExit = 2;

}  // namespace frost::core
