using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Lightfast.Cloud.Tools;

/// <summary>
/// Gives every tool of every server one name that model providers and MCP clients accept
/// (<c>^[a-zA-Z0-9_-]{1,64}$</c>), so two servers exposing the same tool are both reachable.
/// <para>The rule:</para>
/// <list type="number">
/// <item>The qualified name is <c>{server}__{tool}</c>. Server names never contain '_', so the first "__" ends the server name.</item>
/// <item>When that name is not acceptable as it is (a character outside <c>[a-zA-Z0-9_-]</c>, or longer than 64),
/// each bad character becomes '_', the name is cut to 55 characters and <c>_</c> plus the first 8 hex digits of
/// SHA-256 of <c>"{server}\n{tool}"</c> is appended.</item>
/// </list>
/// The result depends only on the server and tool names, never on which other tools exist, so it is stable.
/// </summary>
public static partial class ToolNameQualifier
{
    public const int MaxLength = 64;
    public const string Separator = "__";
    private const int HashLength = 8;

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex AcceptedPattern();

    [GeneratedRegex("[^a-zA-Z0-9_-]", RegexOptions.CultureInvariant)]
    private static partial Regex RejectedCharacter();

    /// <summary>Whether a name is acceptable to model providers as a function name.</summary>
    public static bool IsAcceptable(string name) => AcceptedPattern().IsMatch(name);

    public static string Qualify(string server, string tool)
    {
        ArgumentException.ThrowIfNullOrEmpty(server);
        ArgumentException.ThrowIfNullOrEmpty(tool);
        var plain = server + Separator + tool;
        if (IsAcceptable(plain))
        {
            return plain;
        }

        var sanitized = RejectedCharacter().Replace(plain, "_");
        var keep = MaxLength - HashLength - 1;
        if (sanitized.Length > keep)
        {
            sanitized = sanitized[..keep];
        }

        return $"{sanitized}_{Hash(server, tool)}";
    }

    private static string Hash(string server, string tool)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(server + "\n" + tool));
        return Convert.ToHexStringLower(digest)[..HashLength];
    }
}
