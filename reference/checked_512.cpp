// One precision of the reference per file, so the heavy template instances
// compile in parallel.
#include "checked.hpp"

namespace bnconform::reference {
BNCONFORM_INSTANTIATE_REFERENCE(512)
}  // namespace bnconform::reference
