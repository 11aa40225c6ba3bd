using Microsoft.Extensions.Options;

namespace Reactive.K8sLb.Internal;

/// <summary>Validates <see cref="KubernetesLoadBalancingOptions"/> as a whole (for <c>ValidateOnStart</c> and first use).</summary>
internal sealed class KubernetesLoadBalancingOptionsValidator : IValidateOptions<KubernetesLoadBalancingOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesLoadBalancingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException error)
        {
            return ValidateOptionsResult.Fail(error.Message);
        }
    }
}
