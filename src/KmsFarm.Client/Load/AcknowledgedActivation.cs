using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Load;

/// <summary>An activation a host answered during a load run: the machine's CMID, its product group, the count the host
/// told it, and the index of that host in <see cref="LoadSettings.Hosts"/>.</summary>
public readonly record struct AcknowledgedActivation(Guid ClientMachineId, ProductGroup Group, uint Count, int Host);
