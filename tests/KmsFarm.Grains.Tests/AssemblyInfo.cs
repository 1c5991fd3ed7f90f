// The failover tests measure how long a group is unavailable; on a small shared machine another cluster starting or
// stopping beside them would measure that instead. Every test of this assembly runs alone.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
