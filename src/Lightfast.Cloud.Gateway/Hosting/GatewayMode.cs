namespace Lightfast.Cloud.Gateway.Hosting;

/// <summary>How the gateway reaches the grains.</summary>
public enum GatewayMode
{
    /// <summary>An embedded silo: localhost clustering, in-memory storage. The default: nothing to set up.</summary>
    Local,

    /// <summary>A pure Orleans client of a cluster configured with Orleans' own keys.</summary>
    Client,
}
