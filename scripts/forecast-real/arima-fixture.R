# Writes test/forecast/fixtures/arima-r.json: R's forecast::auto.arima (stepwise defaults) on a
# few R series, its orders and point forecasts, for test/forecast/arima.test.ts to compare with
# our `arima` (run once; the test never calls R). Needs r-cran-forecast.
# Usage: Rscript scripts/forecast-real/arima-fixture.R > test/forecast/fixtures/arima-r.json
suppressMessages(library(forecast))
series <- list(
  AirPassengers = AirPassengers, logAirPassengers = log(AirPassengers), Nile = Nile,
  lynx = lynx, USAccDeaths = USAccDeaths, WWWusage = WWWusage, LakeHuron = LakeHuron,
  austres = austres, nottem = nottem, co2 = co2, JohnsonJohnson = JohnsonJohnson,
  BJsales = BJsales, UKDriverDeaths = UKDriverDeaths, sunspot.year = sunspot.year
)
num <- function(v) paste(format(as.numeric(v), digits = 12, scientific = FALSE, trim = TRUE), collapse = ",")
out <- character(0)
for (name in names(series)) {
  x <- series[[name]]
  m <- frequency(x)
  h <- if (m > 1) 2 * m else 10
  fit <- auto.arima(x)
  a <- fit$arma # p, q, P, Q, m, d, D
  constant <- as.integer(any(c("drift", "intercept") %in% names(coef(fit))))
  fc <- forecast(fit, h = h, level = 95)
  out <- c(out, sprintf(
    '{"name":"%s","freq":%d,"h":%d,"order":{"p":%d,"d":%d,"q":%d,"P":%d,"D":%d,"Q":%d,"constant":%s},"aicc":%s,"values":[%s],"mean":[%s],"upper95":[%s]}',
    name, as.integer(m), as.integer(h), a[1], a[6], a[2], a[3], a[7], a[4],
    if (constant == 1) "true" else "false", format(fit$aicc, digits = 10), num(x), num(fc$mean), num(fc$upper[, 1])
  ))
}
cat(sprintf('{"generator":"scripts/forecast-real/arima-fixture.R","r":"%s","forecast":"%s","series":[\n%s\n]}\n',
            R.version.string, as.character(packageVersion("forecast")), paste(out, collapse = ",\n")))
