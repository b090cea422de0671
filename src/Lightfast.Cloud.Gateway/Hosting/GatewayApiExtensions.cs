using System.Text.Json;
using System.Text.Json.Serialization;
using Lightfast.Cloud.Gateway.Errors;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Lightfast.Cloud.Gateway.Hosting;

internal static class GatewayApiExtensions
{
    /// <summary>JSON, problem details, OpenAPI and request limits of the REST API.</summary>
    public static WebApplicationBuilder AddGatewayApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var maxBody = builder.Configuration.GetValue($"{GatewayOptions.SectionName}:MaxRequestBodyBytes", new GatewayOptions().MaxRequestBodyBytes);
        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = maxBody);

        builder.Services.ConfigureHttpJsonOptions(options => ConfigureJson(options.SerializerOptions));
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<GatewayExceptionHandler>();
        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>camelCase properties, kebab-case enums (<c>streamable-http</c>, <c>running</c>), no nulls.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
    }
}
