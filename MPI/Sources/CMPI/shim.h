#pragma once
#include <mpi.h>
// OpenMPI's handles are macros that take addresses of globals; Swift cannot import them, so wrap them.
static inline MPI_Comm swmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype swmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype swmpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype swmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op swmpi_sum(void) { return MPI_SUM; }
static inline void *swmpi_in_place(void) { return MPI_IN_PLACE; }
