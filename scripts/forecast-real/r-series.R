# Dumps every ts / mts column of frequency 1, 4, 12 or 52 in R's datasets, AER, forecast and
# tseries, and pwt9.1's rgdpna and emp per country, as JSON lines {name, freq, values} (NA as
# null) on stdout. build.sh filters and deduplicates them (filter.mjs). Needs Debian's
# r-base-core r-cran-pwt9 r-cran-aer r-cran-forecast r-cran-tseries.
suppressMessages({
  library(AER)
  library(forecast)
  library(tseries)
  library(pwt9)
})
json_line <- function(name, freq, values) {
  v <- ifelse(is.na(values), "null", format(values, digits = 15, scientific = FALSE, trim = TRUE))
  cat(sprintf('{"name":"%s","freq":%d,"values":[%s]}\n', gsub('"', "'", name), as.integer(freq),
              paste(v, collapse = ",")))
}
emit_ts <- function(name, x) {
  f <- frequency(x)
  if (!(f %in% c(1, 4, 12, 52))) return(invisible())
  if (is.matrix(x)) {
    cols <- colnames(x)
    if (is.null(cols)) cols <- paste0("V", seq_len(ncol(x)))
    for (j in seq_len(ncol(x))) {
      v <- as.numeric(x[, j])
      if (is.numeric(v)) json_line(paste0(name, ".", cols[j]), f, v)
    }
  } else {
    json_line(name, f, as.numeric(x))
  }
}
for (pkg in c("datasets", "AER", "forecast", "tseries")) {
  items <- data(package = pkg)$results[, "Item"]
  # "x (parent)": x is loaded through data(parent)
  parents <- unique(ifelse(grepl("\\(", items), sub("^.*\\((.*)\\)$", "\\1", items), items))
  for (parent in sort(parents)) {
    env <- new.env()
    ok <- tryCatch({
      suppressWarnings(data(list = parent, package = pkg, envir = env))
      TRUE
    }, error = function(e) FALSE)
    if (!ok) next
    for (obj in sort(ls(env))) {
      x <- get(obj, envir = env)
      if (inherits(x, "ts")) emit_ts(paste0(pkg, "::", obj), x)
    }
  }
}
p <- pwt9::pwt9.1
for (country in sort(unique(as.character(p$isocode)))) {
  rows <- p[p$isocode == country, ]
  rows <- rows[order(rows$year), ]
  for (col in c("rgdpna", "emp")) {
    v <- rows[[col]]
    ok <- which(!is.na(v))
    if (length(ok) == 0) next
    json_line(paste0("pwt9.1::", col, ".", country), 1, v[min(ok):max(ok)])
  }
}
