#include "mpi_world.hpp"

#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "rank_order.hpp"

namespace bnconform::distributed {

namespace {

MPI_Datatype type_of(bnc_element t) {
  switch (t) {
    case BNC_ELEMENT_F64: return MPI_DOUBLE;
    case BNC_ELEMENT_F32: return MPI_FLOAT;
    case BNC_ELEMENT_I64: return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

std::size_t width_of(bnc_element t) { return t == BNC_ELEMENT_F32 ? 4 : 8; }

bool fits(std::int64_t count, int size) {
  return count >= 0 && count <= INT_MAX / (size > 0 ? size : 1);
}

bnc_status all_gather(void* context, const void* send, void* receive, std::int64_t count,
                      bnc_element type) {
  const auto* self = static_cast<const bnc_communicator*>(context);
  const MPI_Datatype t = type_of(type);
  if (t == MPI_DATATYPE_NULL || !fits(count, self->size)) return BNC_STATUS_INTERNAL_ERROR;
  const int n = static_cast<int>(count);
  return MPI_Allgather(send, n, t, receive, n, t, MPI_COMM_WORLD) == MPI_SUCCESS
             ? BNC_STATUS_OK
             : BNC_STATUS_INTERNAL_ERROR;
}

bnc_status all_reduce_sum(void* context, void* buffer, std::int64_t count, bnc_element type) {
  const auto* self = static_cast<const bnc_communicator*>(context);
  const MPI_Datatype t = type_of(type);
  if (t == MPI_DATATYPE_NULL || !fits(count, self->size)) return BNC_STATUS_INTERNAL_ERROR;
  if (type == BNC_ELEMENT_I64) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, static_cast<int>(count), t, MPI_SUM,
                         MPI_COMM_WORLD) == MPI_SUCCESS
               ? BNC_STATUS_OK
               : BNC_STATUS_INTERNAL_ERROR;
  }
  std::vector<unsigned char> all(static_cast<std::size_t>(count) * width_of(type) *
                                 static_cast<std::size_t>(self->size));
  if (all_gather(context, buffer, all.data(), count, type) != BNC_STATUS_OK) {
    return BNC_STATUS_INTERNAL_ERROR;
  }
  add_in_rank_order(all.data(), buffer, count, self->size, type);
  return BNC_STATUS_OK;
}

}  // namespace

mpi_world::mpi_world(int* argc, char*** argv) {
  if (MPI_Init(argc, argv) != MPI_SUCCESS) report_error("MPI_Init failed");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  communicator_.struct_size = sizeof(bnc_communicator);
  communicator_.rank = rank;
  communicator_.size = size;
  communicator_.context = &communicator_;
  communicator_.all_reduce_sum = all_reduce_sum;
  communicator_.all_gather = all_gather;
}

mpi_world::~mpi_world() { MPI_Finalize(); }

std::vector<std::string> mpi_world::gather_to_root(const std::string& mine) const {
  if (mine.size() > static_cast<std::size_t>(INT_MAX))
    report_error("gather: more than 2 GB from one rank");
  const int size = static_cast<int>(mine.size());
  std::vector<int> sizes(static_cast<std::size_t>(this->size()));
  if (MPI_Gather(&size, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
    report_error("gather: MPI_Gather failed");
  }
  std::vector<int> offsets(sizes.size(), 0);
  long long total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    if (total > INT_MAX) report_error("gather: more than 2 GB in all");
    offsets[r] = static_cast<int>(total);
    total += sizes[r];
  }
  std::vector<char> all(rank() == 0 ? static_cast<std::size_t>(total) : 0);
  if (MPI_Gatherv(mine.data(), size, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR,
                  0, MPI_COMM_WORLD) != MPI_SUCCESS) {
    report_error("gather: MPI_Gatherv failed");
  }
  std::vector<std::string> out;
  if (rank() != 0) return out;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    out.emplace_back(all.data() + offsets[r], static_cast<std::size_t>(sizes[r]));
  }
  return out;
}

void mpi_world::barrier() const {
  if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) report_error("MPI_Barrier failed");
}

bool mpi_world::launched() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

}  // namespace bnconform::distributed
