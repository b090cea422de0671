using Lightfast.Cloud.Errors;

namespace Lightfast.Cloud.Silo;

internal static class SiloConfigurationExtensions
{
    /// <summary>
    /// A stand-alone silo joins a cluster, so it must be told how to find it. Fail at start-up with the keys to set
    /// rather than start a silo that nobody can reach.
    /// </summary>
    public static WebApplicationBuilder RequireClusteringConfiguration(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["Orleans:Clustering:ProviderType"]))
        {
            throw new ConfigurationException(
                "The silo host needs a clustering provider: set Orleans:Clustering:ProviderType (for example 'Development' with " +
                "Orleans:Clustering:PrimarySiloEndPoint, or 'AzureTableStorage' with Orleans:Clustering:ServiceKey and ConnectionStrings:<key>), " +
                "and Orleans:GrainStorage:Default:ProviderType. To run everything in one process, run the gateway instead: it embeds a silo in local mode.",
                [new ValidationError("Orleans:Clustering:ProviderType", "is required")]);
        }

        return builder;
    }
}
