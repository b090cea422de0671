using System.ComponentModel.DataAnnotations;

namespace Lightfast.Cloud.Gateway.Hosting;

/// <summary>Gateway settings, bound from <c>Lightfast:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Lightfast:Gateway";

    /// <summary><c>Local</c> or <c>Client</c>; see <see cref="OrleansHostingExtensions.GetGatewayMode"/>.</summary>
    public GatewayMode? Mode { get; set; }

    /// <summary>Largest request body accepted; larger ones get 413 <c>REQUEST_TOO_LARGE</c>.</summary>
    [Range(1024, 100 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
