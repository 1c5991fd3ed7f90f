namespace KmsFarm.Activation;

/// <summary>One request as it reaches a product-group ledger.</summary>
/// <param name="ClientMachineId">The CMID.</param>
/// <param name="RequiredClientCount">The request's N_Policy (1..1000 after protocol validation).</param>
/// <param name="Record">The history row to append when the attempt commits; the store fills in the count.</param>
public sealed record ActivationAttempt(Guid ClientMachineId, int RequiredClientCount, ActivationRecord Record);
