#include "seqmodel/corpus.hpp"

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace frost::seqmodel {

ByteCorpus load_byte_corpus(const std::string& path, double heldout, int window) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw std::runtime_error("'" + path + "' does not exist");
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error("'" + path + "' is a directory, not a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  ByteCorpus c;
  c.path = path;
  c.tokens.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read '" + path + "'");
  if (c.tokens.empty()) throw std::runtime_error("'" + path + "' is empty");
  const std::size_t n = c.tokens.size();
  const std::size_t held = static_cast<std::size_t>(std::llround(heldout * double(n)));
  c.train_end = n - std::min(held, n);
  const std::size_t need = static_cast<std::size_t>(window) + 1;
  if (c.train_end < need || n - c.train_end < need)
    throw std::runtime_error(
        "'" + path + "' has " + std::to_string(n) + " bytes: " + std::to_string(c.train_end) +
        " for training and " + std::to_string(n - c.train_end) +
        " held out, but each split needs at least one window of T + 1 = " + std::to_string(need) +
        " bytes (lower seqmodel.train.T or use a longer text)");
  std::array<double, 256> count{};
  for (std::size_t i = 0; i < c.train_end; ++i) count[c.tokens[i]] += 1.0;
  const double nt = double(c.train_end);
  for (double k : count)
    if (k > 0.0) c.unigram_entropy -= k / nt * std::log(k / nt);
  const double denom = nt + 256.0;
  for (std::size_t i = c.train_end; i < n; ++i)
    c.unigram_heldout_ce -= std::log((count[c.tokens[i]] + 1.0) / denom);
  c.unigram_heldout_ce /= double(n - c.train_end);
  return c;
}

std::vector<std::size_t> draw_train_windows(const ByteCorpus& c, int B, int window,
                                            std::uint64_t seed, std::uint32_t run,
                                            std::uint32_t chain, std::uint64_t step) {
  core::RandomStream rs(seed, run, chain, step << 32);
  // Starts s with s + window < train_end: the last target is token s + window.
  const std::uint32_t span = static_cast<std::uint32_t>(c.train_end - std::size_t(window));
  std::vector<std::size_t> starts(B);
  for (auto& s : starts) s = rs.below(span);
  return starts;
}

std::vector<std::size_t> heldout_windows(const ByteCorpus& c, int window, int max_windows) {
  std::vector<std::size_t> starts;
  for (std::size_t s = c.train_end;
       s + std::size_t(window) < c.size() && int(starts.size()) < max_windows; s += window)
    starts.push_back(s);
  return starts;
}

}  // namespace frost::seqmodel
