using KmsFarm.Protocol.Kms;

namespace KmsFarm.Activation;

/// <summary>Decides activation requests: product gate, clock check, the product group's ledger (through the store, with
/// concurrent requests for one group batched into one transaction) and the farm identity. Stub until the domain lands.</summary>
public sealed class ActivationService
{
    /// <summary>Decides one decoded request from <paramref name="clientAddress"/>. Never throws for bad client input;
    /// store failures propagate so the host can close the connection and report not-ready.</summary>
    public ValueTask<ActivationDecision> ActivateAsync(
        KmsProtocolVersion version, KmsRequest request, string clientAddress, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}
