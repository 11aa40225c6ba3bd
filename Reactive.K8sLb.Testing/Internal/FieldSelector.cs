using k8s.Models;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>A field selector over <c>metadata.name</c> and <c>metadata.namespace</c> (<c>=</c>, <c>==</c>, <c>!=</c>).</summary>
internal sealed class FieldSelector
{
    private readonly List<(string Field, string Value, bool Equal)> _requirements;

    private FieldSelector(List<(string Field, string Value, bool Equal)> requirements) => _requirements = requirements;

    public static FieldSelector Everything { get; } = new([]);

    public static bool TryParse(string? text, out FieldSelector selector, out string? error)
    {
        selector = Everything;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var requirements = new List<(string, string, bool)>();
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            int index;
            (string Field, string Value, bool Equal) requirement;
            if ((index = part.IndexOf("!=", StringComparison.Ordinal)) >= 0)
            {
                requirement = (part[..index], part[(index + 2)..], false);
            }
            else if ((index = part.IndexOf("==", StringComparison.Ordinal)) >= 0)
            {
                requirement = (part[..index], part[(index + 2)..], true);
            }
            else if ((index = part.IndexOf('=', StringComparison.Ordinal)) >= 0)
            {
                requirement = (part[..index], part[(index + 1)..], true);
            }
            else
            {
                error = $"invalid selector: '{text}'; can't understand '{part}'";
                return false;
            }

            if (requirement.Field is not ("metadata.name" or "metadata.namespace"))
            {
                // Same wording as the real API server for an unsupported field label.
                error = $"field label not supported: {requirement.Field}";
                return false;
            }

            requirements.Add(requirement);
        }

        selector = new FieldSelector(requirements);
        return true;
    }

    public bool Matches(V1ObjectMeta metadata)
    {
        foreach (var (field, value, equal) in _requirements)
        {
            var actual = field == "metadata.name" ? metadata.Name : metadata.NamespaceProperty;
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }
}
