using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Options;

namespace KmsFarm.Activation;

/// <summary>Validates <see cref="ActivationPolicyOptions"/> at start-up (register with ValidateOnStart); the failure
/// messages name the setting, e.g. "Activation:RenewalIntervalMinutes must be between 15 and 43200 (was 5)."</summary>
public sealed class ActivationPolicyOptionsValidator(ProductCatalog catalog) : IValidateOptions<ActivationPolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, ActivationPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate(catalog);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
