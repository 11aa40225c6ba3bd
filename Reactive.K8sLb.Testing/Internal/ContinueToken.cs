using System.Globalization;
using System.Text;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>The opaque LIST continue token: the snapshot resourceVersion and the last key returned.</summary>
internal static class ContinueToken
{
    public static string Encode(long resourceVersion, string @namespace, string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(
            string.Join('\n', resourceVersion.ToString(CultureInfo.InvariantCulture), @namespace, name)));

    public static bool TryDecode(string token, out long resourceVersion, out (string Ns, string Name) lastKey)
    {
        resourceVersion = 0;
        lastKey = default;
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split('\n');
            if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out resourceVersion))
            {
                return false;
            }

            lastKey = (parts[1], parts[2]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
