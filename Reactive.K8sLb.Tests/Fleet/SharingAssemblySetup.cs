using Reactive.K8sLb;

/// <summary>
/// For the whole test assembly (a set-up fixture outside any namespace): shared watches stop as soon as their last
/// subscription leaves, so tests that dispose a subscription and wait for its watch to close do not wait out the
/// production linger of 5 seconds. The sharing tests set <c>ShareLinger</c> themselves.
/// </summary>
[SetUpFixture]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1050:Declare types in namespaces", Justification = "An NUnit set-up fixture applies to its namespace; outside any, to the assembly.")]
public sealed class SharingAssemblySetup
{
    [OneTimeSetUp]
    public void NoLinger() => DiscoveryOptions.DefaultShareLinger = TimeSpan.Zero;
}
