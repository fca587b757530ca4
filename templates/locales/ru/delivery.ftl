# Почему доставка не удалась — нашими словами (причины из журнала попыток на страницах;
# ответ почтового сервера показывается как есть). Значения вроде `detail` — слова
# библиотеки, системы или сервера, они остаются как есть.
delivery-reason-gave-up = отказ: { $count } { $count ->
    [one] попытка закончилась
    [few] попытки закончились
   *[other] попыток закончились
} без результата
delivery-reason-template = в шаблоне сообщения ошибка (исправьте сообщение): { $problems }
delivery-reason-field = { $part ->
    [subject] тема
   *[body] текст
}: { $problem }
delivery-reason-and = { $first }; { $rest }
delivery-reason-render = шаблон { $part ->
    [subject] темы
   *[body] текста
} сообщения не удаётся собрать для этого клиента: { $problem }
delivery-reason-cannot-build = не удаётся собрать письмо: { $detail }
delivery-reason-message-deleted = сообщение удалено
delivery-reason-bad-address = неверный адрес { $address }: { $detail }
delivery-reason-name-line-break = в имени клиента есть перевод строки, а в заголовок To его поставить нельзя: исправьте имя клиента
delivery-reason-panic = внутренняя ошибка при отправке: { $detail }
delivery-reason-outbox = записано в папку исходящих как { $name }
delivery-reason-outbox-failed = не удаётся записать в папку исходящих: { $detail }
delivery-reason-bad-envelope = неверный конверт письма: { $detail }
delivery-reason-pool-stopped = соединения с SMTP-сервером остановлены
delivery-reason-no-session = не удалось начать SMTP-сеанс с { $server } за { $seconds } с (подключение, приветствие, EHLO, STARTTLS, AUTH)
delivery-reason-cannot-connect = не удаётся подключиться к { $server }: { $detail }
delivery-reason-nodelay = не удаётся включить TCP_NODELAY: { $detail }
delivery-reason-setup = { $step ->
    [greeting] приветствие/EHLO
    [tls] настройка TLS
    [starttls] STARTTLS
    [auth] AUTH
   *[ehlo] EHLO
} с { $server }: { $detail }
delivery-reason-no-starttls = { $server } не предлагает STARTTLS, а в SMTP_URL указано tls=required
delivery-reason-no-reply = нет ответа на { $stage ->
    [start] начало транзакции
    [mail-from] MAIL FROM
    [rcpt-to] RCPT TO
    [data] DATA
   *[end-of-data] конец DATA (сервер, возможно, принял письмо)
} за { $seconds } с
delivery-reason-at-stage = на шаге { $stage ->
    [start] «начало транзакции»
    [mail-from] MAIL FROM
    [rcpt-to] RCPT TO
    [data] DATA
   *[end-of-data] «конец DATA» (сервер, возможно, принял письмо)
}: { $detail }
delivery-reason-no-smtputf8 = в адресе есть не-ASCII символы, а сервер не предлагает SMTPUTF8
delivery-reason-no-8bitmime = в письме есть не-ASCII символы, а сервер не предлагает 8BITMIME

# Почему тестовое письмо не ушло (`messages-test-not-sent`).
mail-error-address = неверный адрес { $address }
mail-error-build = не удаётся собрать письмо: { $detail }
mail-error-smtp = SMTP-сервер: { $detail }
mail-error-timeout = SMTP-сервер не ответил за { $count } с
mail-error-outbox = не удаётся записать в папку исходящих: { $detail }
mail-error-sign = не удаётся подписать DKIM: { $detail }
