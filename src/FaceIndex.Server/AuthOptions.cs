namespace FaceIndex.Server;

/// <summary>
/// API-key authentication (section <c>Auth</c>). Off by default. When on, every FaceIndex call must
/// carry a key in the <c>x-api-key</c> header (or <c>authorization: Bearer KEY</c>); health and
/// reflection stay open. A missing or unknown key is refused with Unauthenticated; a key used on a
/// collection outside its scope, or for a write when it is read-only, with PermissionDenied.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>Require an API key on every FaceIndex call. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>The accepted keys with their scopes.</summary>
    public IList<ApiKeyOptions> Keys { get; } = [];

    /// <summary>Checks every key; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (Enabled && Keys.Count == 0)
        {
            throw new ArgumentException("Auth:Keys must hold at least one key when Auth:Enabled is true.", nameof(Keys));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Keys.Count; i++)
        {
            var key = Keys[i];
            if (string.IsNullOrEmpty(key.Key) || key.Key.Length < 16)
            {
                throw new ArgumentException($"Auth:Keys:{i}:Key must be at least 16 characters.", nameof(Keys));
            }

            if (!seen.Add(key.Key))
            {
                throw new ArgumentException($"Auth:Keys:{i}:Key repeats an earlier key.", nameof(Keys));
            }

            if (key.Collections.Count == 0 || key.Collections.Any(string.IsNullOrEmpty))
            {
                throw new ArgumentException($"Auth:Keys:{i}:Collections must name at least one collection (or \"*\" for all), none empty.", nameof(Keys));
            }
        }
    }
}

/// <summary>One accepted API key.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>A name for logs and metrics (never the key itself).</summary>
    public string Name { get; set; } = "";

    /// <summary>The secret the client sends; at least 16 characters.</summary>
    public string Key { get; set; } = "";

    /// <summary>Collections the key may use; "*" for every collection.</summary>
    public IList<string> Collections { get; } = [];

    /// <summary>True for a key that may search, verify and read but not enrol or delete.</summary>
    public bool ReadOnly { get; set; }
}
