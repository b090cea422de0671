using Lightfast.Cloud.Errors;
using Lightfast.Cloud.Gateway.Correlation;

namespace Lightfast.Cloud.Gateway.Errors;

internal static class GatewayErrorsExtensions
{
    /// <summary>Exceptions become problem details; so do empty error responses such as an unknown route's 404.</summary>
    public static WebApplication UseGatewayErrors(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var code = status switch
            {
                StatusCodes.Status404NotFound => ErrorCodes.RouteNotFound,
                StatusCodes.Status413PayloadTooLarge => ErrorCodes.RequestTooLarge,
                _ => ErrorCodes.RequestMalformed,
            };
            var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = status,
                    Detail = status == StatusCodes.Status404NotFound ? $"No endpoint at {http.Request.Method} {http.Request.Path}." : null,
                    Instance = http.Request.Path,
                    Extensions = { ["code"] = code, ["correlationId"] = http.GetCorrelationId() },
                },
            });
        });
        return app;
    }
}
