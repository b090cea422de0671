using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Lightfast.Cloud.Gateway.Correlation;

/// <summary>
/// Every request has a correlation id: the caller's <c>X-Correlation-Id</c> when it sends a sane one, otherwise
/// the trace id of the request. It is returned on every response, put on the request's activity (so it travels
/// into grain calls as baggage), and scoped onto every log line of the request.
/// </summary>
internal static partial class CorrelationIdMiddleware
{
    public const string HeaderName = "X-Correlation-Id";
    private const string ItemKey = "lightfast.correlation-id";

    [GeneratedRegex("^[A-Za-z0-9._:\\-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex AcceptedId();

    public static WebApplication UseCorrelationId(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var id = context.Request.Headers[HeaderName].ToString();
            if (!AcceptedId().IsMatch(id))
            {
                id = Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
            }

            context.Items[ItemKey] = id;
            Activity.Current?.SetTag("lightfast.correlation_id", id);
            Activity.Current?.SetBaggage("lightfast.correlation_id", id);
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[HeaderName] = id;
                return Task.CompletedTask;
            });

            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lightfast.Cloud.Gateway");
            using (logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = id }))
            {
                await next(context);
            }
        });
        return app;
    }

    public static string GetCorrelationId(this HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var id) && id is string value ? value : context.TraceIdentifier;
}
