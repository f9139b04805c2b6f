// The malformed calls: one entry per clause of the ABI's tables, each call breaking
// its clause first (the ABI's own validator names it), the reference kernel passing
// them all, and kernels broken in each way the group judges (accepting, writing
// before rejecting, wrong status, no message, an unterminated or overlong message,
// moving the running statistics) failing with that named.
#include "battery/malformed_calls.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "bnconform/validate.h"
#include "reference/reference_kernel.hpp"

namespace bnconform::battery {
namespace {

using ::testing::HasSubstr;

// How a test kernel answers a call.
enum class behaviour {
  validates,             // the ABI's validator, then writes every output
  accepts_everything,    // OK without a look (and writes nothing)
  writes_then_rejects,   // writes y (dx) first, then validates
  wrong_status,          // INVALID_PROBLEM for every rejection
  no_message,            // the right status, an empty message
  unterminated_message,  // fills the whole message buffer, no NUL
  message_overrun,       // writes 16 bytes past message_size
  moves_state,           // bumps running_mean[0], then validates
};

behaviour current = behaviour::validates;

void write_outputs(const bnc_problem* p, void* out, bool data) {
  if (p == nullptr || out == nullptr || p->shape == nullptr || p->rank < 2) return;
  // A bogus extent (negative, huge): nothing this small kernel can write.
  std::int64_t n = 1;
  for (std::int32_t i = data ? 0 : 1; i < (data ? p->rank : 2); ++i) {
    if (p->shape[i] < 0 || p->shape[i] > 1000) return;
    n *= p->shape[i];
  }
  if (n > 1000) return;
  auto* f = static_cast<float*>(out);
  for (std::int64_t i = 0; i < n; ++i) f[i] = 0.5f;
}

bnc_status answer(bnc_status validated, char* message, size_t size) {
  switch (current) {
    case behaviour::wrong_status:
      return validated == BNC_STATUS_OK ? validated : BNC_STATUS_INVALID_PROBLEM;
    case behaviour::no_message:
      if (message != nullptr && size > 0) message[0] = '\0';
      return validated;
    case behaviour::unterminated_message:
      if (validated != BNC_STATUS_OK) std::memset(message, 'x', size);
      return validated;
    case behaviour::message_overrun:
      if (validated != BNC_STATUS_OK) std::memset(message, 'x', size + 16);
      return validated;
    default: return validated;
  }
}

bnc_status forward(void* context, const bnc_problem* p, const bnc_forward_args* a, char* message,
                   size_t size) {
  const auto* caps = static_cast<const bnc_capabilities*>(context);
  if (current == behaviour::accepts_everything) return BNC_STATUS_OK;
  if (current == behaviour::writes_then_rejects && a != nullptr) write_outputs(p, a->y, true);
  if (current == behaviour::moves_state && a != nullptr && a->running_mean != nullptr) {
    static_cast<float*>(a->running_mean)[0] += 1;
  }
  const bnc_status s =
      answer(bnc_validate_forward(p, a, caps->keeps_module_state, message, size), message, size);
  if (s != BNC_STATUS_OK) return s;
  write_outputs(p, a->y, true);
  write_outputs(p, a->save_mean, false);
  write_outputs(p, a->save_invstd, false);
  if (caps->keeps_module_state != 0 && a->num_batches_tracked != nullptr) {
    ++*a->num_batches_tracked;
  }
  return s;
}

bnc_status backward(void*, const bnc_problem* p, const bnc_backward_args* a, char* message,
                    size_t size) {
  if (current == behaviour::accepts_everything) return BNC_STATUS_OK;
  if (current == behaviour::writes_then_rejects && a != nullptr) write_outputs(p, a->dx, true);
  const bnc_status s = answer(bnc_validate_backward(p, a, message, size), message, size);
  if (s != BNC_STATUS_OK) return s;
  write_outputs(p, a->dx, true);
  write_outputs(p, a->dgamma, false);
  write_outputs(p, a->dbeta, false);
  return s;
}

// f32, both layouts, every operation, pytorch, host memory.
struct test_kernel {
  bnc_capabilities caps{};
  bnc_kernel k{};
  explicit test_kernel(int keeps_module_state) {
    caps = {BNC_OP_FORWARD_TRAINING | BNC_OP_FORWARD_EVAL | BNC_OP_BACKWARD_TRAINING |
                BNC_OP_BACKWARD_EVAL,
            BNC_BIT(BNC_DTYPE_F32),
            BNC_BIT(BNC_LAYOUT_CHANNELS_FIRST) | BNC_BIT(BNC_LAYOUT_CHANNELS_LAST),
            BNC_BIT(BNC_PROFILE_PYTORCH),
            2,
            8,
            BNC_MEMORY_HOST,
            keeps_module_state};
    k.abi_version = BNC_ABI_VERSION;
    k.struct_size = sizeof k;
    k.name = "malformed-test";
    k.version = "1";
    k.capabilities = caps;
    k.context = &caps;
    k.forward = forward;
    k.backward = backward;
  }
};

problem base_for(const malformed_call& c, const bnc_capabilities& caps) {
  const std::uint32_t op = base_operation(c, caps);
  const bool training = op == BNC_OP_FORWARD_TRAINING || op == BNC_OP_BACKWARD_TRAINING;
  return problem::parse(std::string("shape=4x3x5x2,dtype=f32,layout=cl,mode=") +
                        (training ? "train" : "eval"));
}

struct run_all {
  int calls = 0, failed = 0;
  std::string reasons;
};

run_all run_every_call(const kernel& k) {
  run_all out;
  for (const malformed_call& c : malformed_calls()) {
    if (!applies_to(c, k.capabilities(), profile::pytorch)) continue;
    const malformed_result r = run_malformed(k, c, base_for(c, k.capabilities()));
    ++out.calls;
    if (r.result != check::verdict::pass) {
      ++out.failed;
      out.reasons += c.name() + ": " + r.reason + "\n";
    }
  }
  return out;
}

std::set<std::string> clause_names(const bnc_clause* table, size_t count) {
  std::set<std::string> out;
  for (size_t i = 0; i < count; ++i) out.insert(table[i].name);
  return out;
}

TEST(MalformedCalls, EveryClauseOfTheTablesHasItsCalls) {
  size_t count = 0;
  const bnc_clause* forward_table = bnc_forward_clauses(&count);
  const std::set<std::string> forward_names = clause_names(forward_table, count);
  const bnc_clause* backward_table = bnc_backward_clauses(&count);
  const std::set<std::string> backward_names = clause_names(backward_table, count);
  std::set<std::string> forward_calls, backward_calls;
  for (const malformed_call& c : malformed_calls()) {
    EXPECT_FALSE(c.variants.empty()) << c.name();
    (c.backward ? backward_calls : forward_calls).insert(std::string(c.clause));
    const std::set<std::string>& table = c.backward ? backward_names : forward_names;
    EXPECT_EQ(table.count(std::string(c.clause)), 1u) << c.name() << " is no clause of its table";
    EXPECT_EQ(find_malformed_call(c.name()), &c);
  }
  EXPECT_EQ(forward_calls, forward_names);
  EXPECT_EQ(backward_calls, backward_names);
  EXPECT_EQ(find_malformed_call("forward/no_such_clause"), nullptr);
}

// The ABI's validator rejects each call with the clause it is built to break: no
// variant breaks an earlier clause by accident.
TEST(MalformedCalls, EachCallBreaksItsOwnClauseFirst) {
  current = behaviour::validates;
  int judged = 0;
  for (const int keeps : {0, 1}) {
    test_kernel t(keeps);
    const kernel k(&t.k);
    for (const malformed_call& c : malformed_calls()) {
      if (!applies_to(c, t.caps, profile::pytorch)) continue;
      const malformed_result r = run_malformed(k, c, base_for(c, t.caps));
      EXPECT_EQ(r.result, check::verdict::pass) << c.name() << ": " << r.reason;
      ASSERT_EQ(r.details.size(), c.variants.size()) << c.name();
      for (const std::string& d : r.details) {
        EXPECT_THAT(d, HasSubstr("-> " + std::string(name_of(c.expected)) + ": " +
                                 std::string(c.clause) + ":"))
            << c.name();
        ++judged;
      }
    }
  }
  EXPECT_GT(judged, 90);
}

TEST(MalformedCalls, TheClausesThatApplyFollowTheKernelAndProfile) {
  test_kernel keeps(1), leaves(0);
  const malformed_call* counter = find_malformed_call("forward/counter_in_range");
  const malformed_call* factor = find_malformed_call("forward/factor_in_unit_interval");
  const malformed_call* one_value = find_malformed_call("backward/more_than_one_value_per_channel");
  const malformed_call* running = find_malformed_call("backward/running_var_not_null");
  ASSERT_TRUE(counter && factor && one_value && running);
  EXPECT_TRUE(applies_to(*counter, keeps.caps, profile::pytorch));
  EXPECT_FALSE(applies_to(*counter, leaves.caps, profile::pytorch));
  EXPECT_TRUE(applies_to(*factor, leaves.caps, profile::pytorch));
  EXPECT_FALSE(applies_to(*factor, keeps.caps, profile::pytorch));
  EXPECT_TRUE(applies_to(*one_value, keeps.caps, profile::onnx));
  EXPECT_FALSE(applies_to(*one_value, keeps.caps, profile::keras));
  bnc_capabilities training_only = keeps.caps;
  training_only.operations = BNC_OP_FORWARD_TRAINING | BNC_OP_BACKWARD_TRAINING;
  EXPECT_FALSE(applies_to(*running, training_only, profile::pytorch));
  EXPECT_EQ(base_operation(*running, keeps.caps), BNC_OP_BACKWARD_EVAL);
}

TEST(MalformedCalls, TheReferenceKernelRejectsEveryOne) {
  const kernel k(reference::reference_kernel());
  const run_all r = run_every_call(k);
  EXPECT_GT(r.calls, 50);
  EXPECT_EQ(r.failed, 0) << r.reasons;
}

struct broken_case {
  behaviour how;
  const char* reason;  // in the reason of every failing clause
  bool every_clause;   // every applicable clause fails (else at least one)
};

class BrokenKernel : public ::testing::TestWithParam<broken_case> {};

TEST_P(BrokenKernel, FailsTheGroupWithWhatItDid) {
  current = GetParam().how;
  test_kernel t(1);
  const kernel k(&t.k);
  const run_all r = run_every_call(k);
  current = behaviour::validates;
  if (GetParam().every_clause) {
    EXPECT_EQ(r.failed, r.calls) << r.reasons;
  } else {
    EXPECT_GT(r.failed, 0) << r.reasons;
  }
  EXPECT_THAT(r.reasons, HasSubstr(GetParam().reason));
  EXPECT_THAT(r.reasons, HasSubstr("malformed call accepted or mishandled (clause "));
}

INSTANTIATE_TEST_SUITE_P(
    MalformedCalls, BrokenKernel,
    ::testing::Values(
        broken_case{behaviour::accepts_everything, "expected bad_argument, got ok", true},
        broken_case{behaviour::writes_then_rejects,
                    "output written by a failing call (clause nothing_written_on_failure) in y",
                    false},
        broken_case{behaviour::wrong_status, "expected bad_argument, got invalid_problem", false},
        broken_case{behaviour::no_message, "with an empty message", true},
        broken_case{behaviour::unterminated_message, "message not NUL-terminated", true},
        broken_case{behaviour::message_overrun,
                    "out-of-bounds write in message: the kernel wrote 16 byte(s) past the end",
                    true},
        broken_case{behaviour::moves_state, "the module state changed", false}),
    [](const ::testing::TestParamInfo<broken_case>& param_info) {
      switch (param_info.param.how) {
        case behaviour::validates: return "validates";
        case behaviour::accepts_everything: return "accepts_everything";
        case behaviour::writes_then_rejects: return "writes_then_rejects";
        case behaviour::wrong_status: return "wrong_status";
        case behaviour::no_message: return "no_message";
        case behaviour::unterminated_message: return "unterminated_message";
        case behaviour::message_overrun: return "message_overrun";
        case behaviour::moves_state: return "moves_state";
      }
      return "unknown";
    });

}  // namespace
}  // namespace bnconform::battery
