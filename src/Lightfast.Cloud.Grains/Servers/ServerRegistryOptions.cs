using System.ComponentModel.DataAnnotations;

namespace Lightfast.Cloud.Servers;

/// <summary>Options of the server registry, bound from <c>Lightfast:Registry</c>.</summary>
public sealed class ServerRegistryOptions
{
    public const string SectionName = "Lightfast:Registry";

    /// <summary>How many servers a bulk operation (start all, stop all, health, catalog) works on at once.</summary>
    [Range(1, 256)]
    public int MaxConcurrency { get; set; } = 8;
}
